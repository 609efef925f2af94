import { CapsuleError } from "../errors/mod.ts";

/** A session gone before its container was created: nothing to run. */
export function clientGone(): CapsuleError {
  return new CapsuleError("CLIENT_GONE", "Session closed before it started", { exitCode: 255 });
}

/** A session that would start while the server shuts down. */
export function shuttingDown(): CapsuleError {
  return new CapsuleError("SHUTTING_DOWN", "Cannot start session: the server is shutting down");
}
