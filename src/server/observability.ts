import { resolve } from "node:path";
import { AuditLog, type AuditRecorder, fanOut, openAuditFile } from "../audit/mod.ts";
import { parseListen } from "../config/mod.ts";
import type { Config } from "../config/types.ts";
import type { Logger } from "../log/mod.ts";
import {
  CapsuleMetrics,
  EngineHealth,
  EventLoopDelay,
  type MetricsServer,
  startMetricsServer,
} from "../metrics/mod.ts";
import type { SessionAudit } from "./session_chain.ts";

/** How often `/readyz` has the engine pinged. */
const READY_PING_MS = 5_000;

/** Options of {@linkcode openObservability}. */
export interface ObservabilityOptions {
  logger: Logger;
  /** capsule's version, for `capsule_build_info`. */
  version: string;
  /** Containers held now, and how many wait in the pool (read when scraped). */
  containers(): { running: number; warm: number };
}

/** Where the server's events go: the audit file and the metrics, each when configured. */
export interface Observability {
  /** Takes every event. */
  readonly recorder: AuditRecorder;
  /** The session chain's audit layer; absent with nothing to record into. */
  readonly sessions: SessionAudit | undefined;
  /** Counts a failed call to the engine. */
  engineError(operation: string): void;
  /**
   * Starts the metrics listener of `server.metrics.listen`, if any, with
   * `/readyz` ready while `listening()` and the engine answers `ping`.
   */
  serveMetrics(ready: { ping(): Promise<void>; listening(): boolean }): Promise<void>;
  /** Reopens the audit file (SIGHUP: log rotation). */
  reopen(): void;
  /** Stops the metrics listener, writes what is queued and closes the audit file. */
  close(): Promise<void>;
}

/**
 * The audit file of `audit.file` (opened on the first event) and the
 * metrics of `server.metrics.listen`, joined into one recorder that every
 * layer reports to.
 */
export function openObservability(config: Config, options: ObservabilityOptions): Observability {
  const { logger } = options;
  const path = config.audit.file === "" ? undefined : resolve(config.audit.file);
  const log = path === undefined
    ? undefined
    : new AuditLog({ logger, open: () => openAuditFile(path) });
  if (path !== undefined) logger.info("audit.file", { path });
  const metrics = config.server.metrics.listen === "" ? undefined : new CapsuleMetrics({
    version: options.version,
    sources: { containers: options.containers, auditDropped: () => log?.dropped ?? 0 },
  });
  const recorders = [...(log ? [log] : []), ...(metrics ? [metrics] : [])];
  const recorder = fanOut(recorders);
  let health: EngineHealth | undefined;
  let server: MetricsServer | undefined;
  const loopDelay = metrics
    ? new EventLoopDelay({ observe: (seconds) => metrics.eventLoopDelay(seconds) })
    : undefined;
  return {
    recorder,
    sessions: recorders.length > 0
      ? {
        recorder,
        sftp: log !== undefined,
        sftpEventsPerSession: config.audit.sftpEventsPerSession,
      }
      : undefined,
    engineError: (operation) => metrics?.engineError(operation),
    async serveMetrics(ready) {
      if (!metrics) return;
      health = new EngineHealth({ ping: ready.ping, intervalMs: READY_PING_MS });
      health.start();
      loopDelay?.start();
      const listen = parseListen(config.server.metrics.listen);
      const engine = health;
      server = await startMetricsServer({
        hostname: listen.host,
        port: listen.port,
        render: () => metrics.registry.render(),
        ready: () => ready.listening() && engine.ok,
        logger,
      });
    },
    reopen: () => log?.reopen(),
    async close() {
      await server?.close();
      loopDelay?.stop();
      await health?.stop();
      await log?.close();
    },
  };
}
