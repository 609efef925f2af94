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
}

/**
 * capsule's session handler chain, first listed = outermost: `logSession`
 * logs the start and the end; `recoverErrors`, inside it, turns an error into
 * one line for the user and an exit status, so that a failed session's end is
 * logged too; `limitSessions` refuses a session over its user's cap before
 * anything is created; `containerHandler`, innermost, runs the session in the
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
    [logSession(), recoverErrors(), ...(options.caps ? [limitSessions(options.caps)] : [])],
    containerHandler(placement, options),
  );
}

/**
 * The chain of a session on a refused connection (over a per-user cap): it
 * is logged and ends with `refusal` as its one line; nothing is created.
 */
export function refusedSessionChain(refusal: Error): SessionHandler {
  return composeSession([logSession(), recoverErrors()], () => Promise.reject(refusal));
}
