import assert from "node:assert/strict";
import { CapsuleMetrics, METRIC_NAMES, metricsHandler } from "../../src/metrics/mod.ts";

function metrics() {
  return new CapsuleMetrics({
    version: "9.9.9",
    sources: { containers: () => ({ running: 3, warm: 2 }), auditDropped: () => 4 },
  });
}

/** The value of one sample line, e.g. `capsule_sessions_total{kind="exec",result="started"}`. */
function sample(text: string, series: string): number | undefined {
  const line = text.split("\n").find((l) => l.startsWith(series + " "));
  return line === undefined ? undefined : Number(line.slice(series.length + 1));
}

Deno.test("CapsuleMetrics counts connections, auth attempts and sessions from audit events", () => {
  const m = metrics();
  m.record("connection.open", { connection: "c1", remote: "127.0.0.1:1" });
  m.record("auth", {
    connection: "c1",
    user: "a",
    method: "publickey",
    result: "rejected",
    query: true,
  });
  m.record("auth", { connection: "c1", user: "a", method: "password", result: "rejected" });
  m.record("auth", { connection: "c1", user: "a", method: "password", result: "accepted" });
  m.record("container.create", { container: "x", placement: "session", start_ms: 200 });
  m.record("session.start", { connection: "c1", session: "s1", kind: "exec", setup_ms: 300 });
  m.record("session.start", { connection: "c1", session: "s2", kind: "shell", setup_ms: 300 });
  let text = m.registry.render();
  assert.equal(sample(text, "capsule_sessions_live"), 2);
  assert.equal(sample(text, "capsule_connections_open"), 1);
  m.record("session.end", { connection: "c1", session: "s1", kind: "exec", exit_code: 0 });
  m.record("session.end", { connection: "c1", session: "s2", kind: "shell", exit_code: 124 });
  m.record("session.refused", { connection: "c1", session: "s3", kind: "exec", reason: "x" });
  m.record("session.end", { session: "s4", kind: "exec", exit_code: 125, error: "ENGINE_LOST" });
  m.record("connection.close", { connection: "c1", reason: "client", duration_ms: 1 });
  m.engineError("run");
  text = m.registry.render();
  const expect: Record<string, number> = {
    [`capsule_build_info{version="9.9.9",deno="${Deno.version.deno}"}`]: 1,
    "capsule_connections_total": 1,
    "capsule_connections_open": 0,
    'capsule_connection_closes_total{reason="client"}': 1,
    'capsule_auth_attempts_total{method="password",result="accepted"}': 1,
    'capsule_auth_attempts_total{method="password",result="rejected"}': 1,
    'capsule_auth_attempts_total{method="publickey",result="rejected"}': 0,
    'capsule_auth_attempts_total{method="keyboard-interactive",result="rejected"}': 0,
    "capsule_login_seconds_count": 1,
    'capsule_sessions_total{kind="exec",result="started"}': 1,
    'capsule_sessions_total{kind="shell",result="started"}': 1,
    'capsule_sessions_total{kind="exec",result="refused"}': 1,
    'capsule_sessions_total{kind="exec",result="failed"}': 1,
    "capsule_sessions_live": 0,
    'capsule_session_setup_seconds_bucket{le="0.25"}': 0,
    'capsule_session_setup_seconds_bucket{le="0.5"}': 2,
    'capsule_session_exits_total{reason="exit_zero"}': 1,
    'capsule_session_exits_total{reason="timeout"}': 1,
    'capsule_session_exits_total{reason="error"}': 1,
    'capsule_containers_created_total{placement="session"}': 1,
    "capsule_container_start_seconds_sum": 0.2,
    'capsule_containers{state="running"}': 3,
    'capsule_containers{state="warm"}': 2,
    'capsule_engine_errors_total{operation="run"}': 1,
    "capsule_audit_dropped_lines": 4,
  };
  for (const [series, value] of Object.entries(expect)) {
    assert.equal(sample(text, series), value, series);
  }
  assert.doesNotMatch(text, /user=/, "no series is labelled with a user");
  for (const name of METRIC_NAMES) assert.match(text, new RegExp(`^# TYPE ${name} `, "m"));
});

Deno.test("metricsHandler() serves /metrics, /healthz and /readyz", async (t) => {
  let ready = false;
  const handle = metricsHandler({ render: () => "m 1\n", ready: () => ready });
  const get = (path: string, method = "GET") =>
    handle(new Request(`http://127.0.0.1${path}`, { method }));
  await t.step("/metrics in the text format", async () => {
    const response = get("/metrics");
    assert.equal(response.status, 200);
    assert.match(response.headers.get("content-type")!, /^text\/plain; version=0\.0\.4/);
    assert.equal(await response.text(), "m 1\n");
  });
  await t.step("/healthz 200", async () => {
    const response = get("/healthz");
    assert.equal(response.status, 200);
    await response.body?.cancel();
  });
  await t.step("/readyz 503 then 200", async () => {
    const before = get("/readyz");
    assert.equal(before.status, 503);
    await before.body?.cancel();
    ready = true;
    const after = get("/readyz");
    assert.equal(after.status, 200);
    await after.body?.cancel();
  });
  await t.step("404 and 405", async () => {
    const missing = get("/nope");
    assert.equal(missing.status, 404);
    await missing.body?.cancel();
    const post = get("/metrics", "POST");
    assert.equal(post.status, 405);
    await post.body?.cancel();
  });
});
