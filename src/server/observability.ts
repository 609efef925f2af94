import { resolve } from "node:path";
import { AuditLog, type AuditRecorder, fanOut, openAuditFile } from "../audit/mod.ts";
import type { Config } from "../config/types.ts";
import type { Logger } from "../log/mod.ts";
import type { SessionAudit } from "./session_chain.ts";

/** Where the server's events go: the audit file (when configured) and the metrics. */
export interface Observability {
  /** Takes every event. */
  readonly recorder: AuditRecorder;
  /** The session chain's audit layer; absent with nothing to record into. */
  readonly sessions: SessionAudit | undefined;
  /** Reopens the audit file (SIGHUP: log rotation). */
  reopen(): void;
  /** Writes what is queued and closes the audit file. */
  close(): Promise<void>;
}

/**
 * Opens the audit file of `audit.file` (the file itself on the first event)
 * and joins it with `others` (the metrics) into one recorder.
 *
 * @param others further recorders, e.g. the metrics
 */
export function openObservability(
  config: Config,
  options: { logger: Logger; others?: readonly AuditRecorder[] },
): Observability {
  const path = config.audit.file === "" ? undefined : resolve(config.audit.file);
  const log = path === undefined ? undefined : new AuditLog({
    logger: options.logger,
    open: () => openAuditFile(path),
  });
  if (path !== undefined) options.logger.info("audit.file", { path });
  const recorders = [...(log ? [log] : []), ...(options.others ?? [])];
  const recorder = fanOut(recorders);
  return {
    recorder,
    sessions: recorders.length > 0 ? { recorder, sftp: log !== undefined } : undefined,
    reopen: () => log?.reopen(),
    close: async () => await log?.close(),
  };
}
