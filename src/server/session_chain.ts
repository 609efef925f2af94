import { type AuditRecorder, auditSession } from "../audit/mod.ts";
import { recordSession, type RecordSessionOptions } from "../recording/mod.ts";
import { limitSessions, type UserCaps } from "../limits/mod.ts";
import {
  composeSession,
  containerHandler,
  type ContainerHandlerOptions,
  logSession,
  type Placement,
  recoverErrors,
  type SessionHandler,
} from "../session/mod.ts";

/** Options of {@linkcode sessionChain}. */
export interface SessionChainOptions extends ContainerHandlerOptions {
  /** Per-user caps; each session counts against its user's while it runs. */
  caps?: UserCaps;
  /** Where each session's end, refusals and SFTP operations are audited. */
  audit?: SessionAudit;
  /** Where TTY sessions are recorded (asciicast v2); absent for none. */
  recording?: RecordSessionOptions;
}

/** The audit of sessions: where events go, and whether SFTP operations are among them. */
export interface SessionAudit {
  recorder: AuditRecorder;
  /** Divert the sftp subsystem's operation log from the client into the audit. */
  sftp: boolean;
  /** Most `sftp.*` events per session (`audit.sftpEventsPerSession`); 0 for no cap. */
  sftpEventsPerSession?: number;
}

/**
 * capsule's session handler chain, first listed = outermost: `logSession`
 * logs the start and the end; `recoverErrors`, inside it, turns an error into
 * one line for the user and an exit status, so that a failed session's end is
 * logged too; `auditSession`, inside that, audits how each session ended
 * (and its SFTP operations); `limitSessions` refuses a session over its user's cap before
 * anything is created; `recordSession` records a TTY session that got that
 * far; `containerHandler`, innermost, runs the session in the
 * container `placement` gives it.
 *
 * @param placement where sessions run
 * @param options the container settings per user, where releases go, the caps
 */
export function sessionChain(
  placement: Placement,
  options: SessionChainOptions,
): SessionHandler {
  return composeSession(
    [
      logSession(),
      recoverErrors(),
      ...(options.audit ? [auditSession(options.audit.recorder, options.audit)] : []),
      ...(options.caps ? [limitSessions(options.caps)] : []),
      ...(options.recording ? [recordSession(options.recording)] : []),
    ],
    containerHandler(placement, options),
  );
}

/**
 * The chain of a session on a refused connection (over a per-user cap): it
 * is logged (and audited) and ends with `refusal` as its one line; nothing is created.
 */
export function refusedSessionChain(refusal: Error, audit?: SessionAudit): SessionHandler {
  return composeSession(
    [logSession(), recoverErrors(), ...(audit ? [auditSession(audit.recorder, audit)] : [])],
    () => Promise.reject(refusal),
  );
}
