import { CapsuleError } from "../errors/mod.ts";

/** An error from dockerode's HTTP layer. */
interface EngineError {
  statusCode?: number;
  code?: string;
  json?: { message?: string } | null;
  message?: string;
}

export function engineErrorOf(error: unknown): EngineError {
  return (typeof error === "object" && error !== null ? error : {}) as EngineError;
}

/** The engine's own message, or the transport error's. */
export function engineMessage(error: unknown): string {
  const e = engineErrorOf(error);
  return e.json?.message ?? e.message ?? String(error);
}

const UNREACHABLE_CODES = new Set(["ECONNREFUSED", "ENOENT", "ECONNRESET", "EPIPE", "ETIMEDOUT"]);

export function isUnreachable(error: unknown): boolean {
  const e = engineErrorOf(error);
  return (e.code !== undefined && UNREACHABLE_CODES.has(e.code)) ||
    /connect|socket hang up|ENOENT|ECONNREFUSED/i.test(e.message ?? "");
}

export function unreachable(error: unknown): CapsuleError {
  return new CapsuleError(
    "ENGINE_UNREACHABLE",
    "Cannot start a container: the container engine is not reachable",
    { cause: error },
  );
}

/** The session's exit status could not be had from the engine. */
export function exitStatusLost(error: unknown): CapsuleError {
  return new CapsuleError(
    "ENGINE_LOST",
    isUnreachable(error)
      ? "Session ended: the connection to the container engine was lost"
      : "Session ended: the container engine did not report an exit status",
    { cause: error },
  );
}
