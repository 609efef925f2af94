import assert from "node:assert/strict";
import { type ContainerConfig, defaultConfig } from "../../src/config/mod.ts";
import { SharedContainers } from "../../src/lifecycle/mod.ts";
import { silentLogger } from "../../src/log/mod.ts";
import { FakeRuntime } from "../helpers/fake_runtime.ts";
import { fakeSessionContext } from "../helpers/fake_session_context.ts";

const container = (over: Partial<ContainerConfig>): ContainerConfig => ({
  ...defaultConfig().container,
  ...over,
});

function setup() {
  const runtime = new FakeRuntime();
  runtime.script = { untilSignal: true };
  const live = new Set<string>();
  const shared = new SharedContainers(runtime, { instance: "t", live, logger: silentLogger() });
  return { runtime, live, shared };
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

Deno.test("connection mode: sessions of one connection share a container until it closes", async () => {
  const { runtime, live, shared } = setup();
  const config = container({ mode: "connection" });
  const a = await shared.launch(fakeSessionContext({ connectionId: "c1" }), config);
  const b = await shared.launch(fakeSessionContext({ connectionId: "c1" }), config);
  const other = await shared.launch(fakeSessionContext({ connectionId: "c2" }), config);
  assert.equal(runtime.callsOf("start").length, 2);
  assert.equal(a.process.containerId, b.process.containerId);
  assert.notEqual(a.process.containerId, other.process.containerId);
  const [start] = runtime.callsOf("start");
  assert.equal(start?.spec.labels["io.capsule.mode"], "connection");
  assert.equal(start?.spec.labels["io.capsule.owner"], "connection:c1");
  assert.equal(start?.spec.labels["io.capsule.connection"], "c1");
  assert.equal(start?.spec.labels["io.capsule.user"], "alice");
  assert.equal(start?.spec.tty, false);

  await a.release();
  await b.release();
  // The connection is still open: the container stays for its next session.
  assert.deepEqual(runtime.callsOf("remove"), []);
  assert.ok(live.has("connection:c1"));
  shared.connectionClosed("c1");
  await sleep(10);
  assert.deepEqual(runtime.callsOf("remove").map((c) => c.id), [a.process.containerId]);
  assert.ok(!live.has("connection:c1"));
  await other.release();
  shared.connectionClosed("c2");
  await shared.close();
  assert.equal(runtime.live.size, 0);
  assert.equal(live.size, 0);
});

Deno.test("persistent mode: one container per user, kept for the grace period", async () => {
  const { runtime, live, shared } = setup();
  const config = container({ mode: "persistent", gracePeriod: 1 });
  const first = await shared.launch(fakeSessionContext({ connectionId: "c1" }), config);
  const second = await shared.launch(fakeSessionContext({ connectionId: "c2" }), config);
  const bob = await shared.launch(fakeSessionContext({ connectionId: "c3", user: "bob" }), config);
  assert.equal(first.process.containerId, second.process.containerId);
  assert.notEqual(first.process.containerId, bob.process.containerId);
  const [start] = runtime.callsOf("start");
  assert.equal(start?.spec.labels["io.capsule.owner"], "user:alice");
  // The name is the same for the same instance and user: a second creation would clash.
  assert.match(start?.spec.name ?? "", /^capsule-user-[0-9a-f]{20}$/);

  for (const placed of [first, second]) await placed.release();
  shared.connectionClosed("c1");
  shared.connectionClosed("c2");
  await sleep(300);
  assert.equal(runtime.callsOf("remove").length, 0, "kept during the grace period");
  // A login within the grace period lands in the same container.
  const again = await shared.launch(fakeSessionContext({ connectionId: "c4" }), config);
  assert.equal(again.process.containerId, first.process.containerId);
  assert.equal(runtime.callsOf("start").length, 2);
  await again.release();
  shared.connectionClosed("c4");
  await sleep(1300);
  assert.deepEqual(runtime.callsOf("remove").map((c) => c.id), [first.process.containerId]);
  assert.ok(!live.has("user:alice"));
  await bob.release();
  await shared.close();
  assert.equal(runtime.live.size, 0);
});

Deno.test("persistent mode: sessions racing to create the container end up in one", async () => {
  const { runtime, shared } = setup();
  let open!: () => void;
  runtime.startGate = new Promise((r) => (open = r));
  const config = container({ mode: "persistent" });
  const racing = Array.from(
    { length: 8 },
    (_, i) => shared.launch(fakeSessionContext({ connectionId: `c${i}` }), config),
  );
  await sleep(10);
  open();
  const placed = await Promise.all(racing);
  assert.equal(runtime.callsOf("start").length, 1);
  assert.equal(new Set(placed.map((p) => p.process.containerId)).size, 1);
  assert.equal(runtime.callsOf("exec").length, 8);
  await Promise.all(placed.map((p) => p.release()));
  await shared.close();
  assert.equal(runtime.live.size, 0);
});

Deno.test("a failed creation fails every waiting session and is retried by the next", async () => {
  const { runtime, live, shared } = setup();
  runtime.failStart = new Error("engine says no");
  const config = container({ mode: "persistent" });
  const results = await Promise.allSettled([
    shared.launch(fakeSessionContext({ connectionId: "c1" }), config),
    shared.launch(fakeSessionContext({ connectionId: "c2" }), config),
  ]);
  assert.deepEqual(results.map((r) => r.status), ["rejected", "rejected"]);
  assert.equal(shared.size, 0);
  assert.equal(live.size, 0);
  runtime.failStart = undefined;
  const placed = await shared.launch(fakeSessionContext({ connectionId: "c3" }), config);
  assert.equal(runtime.callsOf("start").length, 2);
  await placed.release();
  await shared.close();
});

Deno.test("a shared container is removed at its maximum lifetime, and its sessions told why", async () => {
  const { runtime, shared } = setup();
  const config = container({ mode: "persistent", maxLifetime: 1 });
  const placed = await shared.launch(fakeSessionContext(), config);
  const [start] = runtime.callsOf("start");
  assert.ok(Number(start?.spec.labels["io.capsule.expires"]) > Date.now());
  await sleep(1200);
  assert.equal(placed.expired.aborted, true);
  assert.match(String(placed.expired.reason), /maximum lifetime of 1 s/);
  assert.deepEqual(runtime.callsOf("remove").map((c) => c.id), [placed.process.containerId]);
  // The next session gets a new container.
  const next = await shared.launch(fakeSessionContext({ connectionId: "c9" }), config);
  assert.notEqual(next.process.containerId, placed.process.containerId);
  await placed.release();
  await next.release();
  await shared.close();
  assert.equal(runtime.live.size, 0);
});

Deno.test("a session of a connection that already closed does not pin the container", async () => {
  const { runtime, shared } = setup();
  const gone = new AbortController();
  gone.abort();
  const config = container({ mode: "connection" });
  await assert.rejects(
    shared.launch(fakeSessionContext({ signal: gone.signal }), config),
    /closed before it started/,
  );
  await sleep(10);
  assert.equal(shared.size, 0);
  assert.equal(runtime.live.size, 0);
});

Deno.test("a shared container that died is replaced for the next session", async () => {
  const { runtime, shared } = setup();
  const config = container({ mode: "persistent" });
  const first = await shared.launch(fakeSessionContext({ connectionId: "c1" }), config);
  await first.release();
  runtime.live.delete(first.process.containerId); // e.g. `kill 1` inside it
  const second = await shared.launch(fakeSessionContext({ connectionId: "c1" }), config);
  assert.notEqual(second.process.containerId, first.process.containerId);
  assert.equal(runtime.callsOf("start").length, 2);
  await second.release();
  await shared.close();
  assert.equal(runtime.live.size, 0);
});

Deno.test("after close(), no session gets a shared container", async () => {
  const { runtime, live, shared } = setup();
  await shared.close();
  await assert.rejects(
    shared.launch(fakeSessionContext(), container({ mode: "persistent" })),
    /shutting down/,
  );
  assert.equal(runtime.callsOf("start").length, 0);
  assert.equal(live.size, 0);
});

Deno.test("a grace period longer than setTimeout's range does not fire at once", async () => {
  const { runtime, shared } = setup();
  const config = container({ mode: "persistent", gracePeriod: 30 * 24 * 3600 });
  const placed = await shared.launch(fakeSessionContext({ connectionId: "c1" }), config);
  await placed.release();
  shared.connectionClosed("c1");
  await sleep(50);
  assert.equal(runtime.callsOf("remove").length, 0, "kept for its 30-day grace period");
  await shared.close();
  assert.equal(runtime.live.size, 0);
});
