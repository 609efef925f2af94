import type { AuditEventName, AuditFields, AuditRecorder } from "../audit/mod.ts";
import { type Counter, type Gauge, type Histogram, Registry } from "./registry.ts";

/** What the metrics read when scraped rather than count as things happen. */
export interface MetricsSources {
  /** Containers this server holds now, and how many of them wait in the warm pool. */
  containers(): { running: number; warm: number };
  /** Audit lines dropped so far (0 without an audit file). */
  auditDropped(): number;
}

/** Options of {@linkcode CapsuleMetrics}. */
export interface CapsuleMetricsOptions {
  version: string;
  sources: MetricsSources;
}

/** The names of every metric capsule serves (README lists them). */
export const METRIC_NAMES = [
  "capsule_build_info",
  "capsule_connections_total",
  "capsule_connections_open",
  "capsule_connection_closes_total",
  "capsule_auth_attempts_total",
  "capsule_login_seconds",
  "capsule_sessions_total",
  "capsule_sessions_live",
  "capsule_session_setup_seconds",
  "capsule_session_exits_total",
  "capsule_containers_created_total",
  "capsule_container_start_seconds",
  "capsule_containers",
  "capsule_engine_errors_total",
  "capsule_audit_dropped_lines",
  "capsule_event_loop_delay_seconds",
] as const;

/** Seconds, from 1 ms to 1 s: how late the event loop runs (healthy: under 10 ms). */
const DELAY_BUCKETS = [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1];

/**
 * capsule's metrics, counted from the same events as the audit log (it is a
 * recorder beside the audit file), plus the engine's errors and what is read
 * at scrape time. No label carries a user name: the series stay few
 * whatever the number of users.
 */
export class CapsuleMetrics implements AuditRecorder {
  /** The registry to render at `/metrics`. */
  readonly registry = new Registry();
  readonly #connections: Counter;
  readonly #open: Gauge;
  readonly #closes: Counter;
  readonly #auth: Counter;
  readonly #login: Histogram;
  readonly #sessions: Counter;
  readonly #live: Gauge;
  readonly #setup: Histogram;
  readonly #exits: Counter;
  readonly #forwards: Counter;
  readonly #created: Counter;
  readonly #containerStart: Histogram;
  readonly #engineErrors: Counter;
  readonly #loopDelay: Histogram;
  /** When each open connection opened (performance.now()), until it authenticates. */
  readonly #opened = new Map<string, number>();
  readonly #started = new Set<string>();

  /** @param options the version for `capsule_build_info`, and what is read when scraped */
  constructor(options: CapsuleMetricsOptions) {
    const r = this.registry;
    r.gauge("capsule_build_info", "capsule's version and the Deno it runs on; always 1.", [
      "version",
      "deno",
    ]).set({ version: options.version, deno: Deno.version.deno }, 1);
    this.#connections = r.counter("capsule_connections_total", "SSH connections opened.");
    this.#connections.init();
    this.#open = r.gauge("capsule_connections_open", "SSH connections open now.");
    this.#open.set({}, 0);
    this.#closes = r.counter(
      "capsule_connection_closes_total",
      "SSH connections closed, by reason.",
      ["reason"],
    );
    this.#auth = r.counter(
      "capsule_auth_attempts_total",
      "Authentication attempts (key queries excluded), by method and result.",
      ["method", "result"],
    );
    for (const method of ["password", "publickey", "keyboard-interactive"]) {
      for (const result of ["accepted", "rejected"]) this.#auth.init({ method, result });
    }
    this.#login = r.histogram(
      "capsule_login_seconds",
      "Time from the SSH handshake to successful authentication.",
    );
    this.#login.init();
    this.#sessions = r.counter(
      "capsule_sessions_total",
      "Sessions by kind (shell, exec, subsystem) and result (started, refused, failed).",
      ["kind", "result"],
    );
    this.#live = r.gauge("capsule_sessions_live", "Sessions running now.");
    this.#live.set({}, 0);
    this.#setup = r.histogram(
      "capsule_session_setup_seconds",
      "Time from a session's request to its process running.",
    );
    this.#setup.init();
    this.#forwards = r.counter(
      "capsule_forwards_total",
      "Forwarded channels (ssh -L, -D, -R, agent), by result (opened, refused).",
      ["result"],
    );
    this.#forwards.init({ result: "opened" });
    this.#forwards.init({ result: "refused" });
    this.#exits = r.counter(
      "capsule_session_exits_total",
      "Sessions ended, by reason (exit_zero, exit_nonzero, signal, timeout, error).",
      ["reason"],
    );
    this.#created = r.counter(
      "capsule_containers_created_total",
      "Containers created, by placement (session, pool, connection, persistent).",
      ["placement"],
    );
    this.#containerStart = r.histogram(
      "capsule_container_start_seconds",
      "Time the engine took to create and start a container.",
    );
    this.#containerStart.init();
    r.gauge("capsule_containers", "Containers held now, by state (running, warm).", ["state"])
      .collect(() => {
        const counts = options.sources.containers();
        return [
          { labels: { state: "running" }, value: counts.running },
          { labels: { state: "warm" }, value: counts.warm },
        ];
      });
    this.#engineErrors = r.counter(
      "capsule_engine_errors_total",
      "Failed calls to the container engine, by operation.",
      ["operation"],
    );
    this.#loopDelay = r.histogram(
      "capsule_event_loop_delay_seconds",
      "How late capsule's event loop ran a timer, probed every 100 ms: time every connection waited.",
      { bounds: DELAY_BUCKETS },
    );
    this.#loopDelay.init();
    r.gauge("capsule_audit_dropped_lines", "Audit lines dropped (queue full or write failed).")
      .collect(() => [{ labels: {}, value: options.sources.auditDropped() }]);
  }

  /** Counts a failed call to the engine. */
  engineError(operation: string): void {
    this.#engineErrors.inc({ operation });
  }

  /** Counts one probe of the event loop's delay (see `EventLoopDelay`), in seconds. */
  eventLoopDelay(seconds: number): void {
    this.#loopDelay.observe(seconds);
  }

  /** Counts what an audit event says. */
  record(event: AuditEventName, fields: AuditFields): void {
    const connection = fields.connection;
    const session = typeof fields["session"] === "string" ? fields["session"] : undefined;
    const kind = String(fields["kind"] ?? "unknown");
    switch (event) {
      case "connection.open":
        this.#connections.inc();
        this.#open.add({}, 1);
        if (connection) this.#opened.set(connection, performance.now());
        break;
      case "connection.close":
        this.#open.add({}, -1);
        this.#closes.inc({ reason: String(fields["reason"] ?? "unknown") });
        if (connection) this.#opened.delete(connection);
        break;
      case "auth": {
        // Key queries and the `none` probe every OpenSSH client starts with are
        // not login attempts: counting them would trip rejected-auth alerts.
        if (fields["query"] === true || fields["method"] === "none") break;
        const result = String(fields["result"]);
        this.#auth.inc({ method: String(fields["method"]), result });
        const opened = connection ? this.#opened.get(connection) : undefined;
        if (result === "accepted" && opened !== undefined && connection) {
          this.#login.observe((performance.now() - opened) / 1000);
          this.#opened.delete(connection);
        }
        break;
      }
      case "session.start":
        this.#sessions.inc({ kind, result: "started" });
        this.#setup.observe(Number(fields["setup_ms"] ?? 0) / 1000);
        if (session) this.#started.add(session);
        this.#live.set({}, this.#started.size);
        break;
      case "session.refused":
        this.#sessions.inc({ kind, result: "refused" });
        break;
      case "forward.open":
        this.#forwards.inc({ result: "opened" });
        break;
      case "forward.refused":
        this.#forwards.inc({ result: "refused" });
        break;
      case "session.end": {
        const started = session !== undefined && this.#started.delete(session);
        // A cap's refusal was counted by its session.refused.
        const refused = /_CAP_REACHED$/.test(String(fields["error"] ?? ""));
        if (!started && !refused) this.#sessions.inc({ kind, result: "failed" });
        this.#live.set({}, this.#started.size);
        this.#exits.inc({ reason: exitReason(fields) });
        break;
      }
      case "container.create":
        this.#created.inc({ placement: String(fields["placement"] ?? "unknown") });
        this.#containerStart.observe(Number(fields["start_ms"] ?? 0) / 1000);
        break;
    }
  }
}

/** Why a session ended, in few enough words to be a label. */
function exitReason(fields: AuditFields): string {
  if (fields["error"] !== undefined) return "error";
  if (fields["exit_signal"] !== undefined) return "signal";
  const code = fields["exit_code"];
  if (code === 124) return "timeout";
  return code === 0 ? "exit_zero" : "exit_nonzero";
}
