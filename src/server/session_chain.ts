import {
  composeSession,
  containerHandler,
  type ContainerHandlerOptions,
  logSession,
  type Placement,
  recoverErrors,
  type SessionHandler,
} from "../session/mod.ts";

/**
 * capsule's session handler chain, first listed = outermost: `logSession`
 * logs the start and the end; `recoverErrors`, inside it, turns an error into
 * one line for the user and an exit status, so that a failed session's end is
 * logged too; `containerHandler`, innermost, runs the session in the
 * container `placement` gives it.
 *
 * @param placement where sessions run
 * @param options the container settings per user, and where releases go
 */
export function sessionChain(
  placement: Placement,
  options: ContainerHandlerOptions,
): SessionHandler {
  return composeSession([logSession(), recoverErrors()], containerHandler(placement, options));
}
