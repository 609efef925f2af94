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

const UNREACHABLE_CODES = new Set([
  "ECONNREFUSED",
  "ENOENT",
  "ECONNRESET",
  "EPIPE",
  "ETIMEDOUT",
  "EHOSTUNREACH",
  "ENETUNREACH",
  "ENOTFOUND",
  "EAI_AGAIN",
]);

export function isUnreachable(error: unknown): boolean {
  const e = engineErrorOf(error);
  return (e.code !== undefined && UNREACHABLE_CODES.has(e.code)) ||
    /connect|socket hang up|ENOENT|ECONNREFUSED/i.test(e.message ?? "") ||
    tlsProblem(error) !== undefined;
}

/** Node's codes for a server certificate that the CA capsule was given did not sign. */
const UNTRUSTED_SERVER = new Set([
  "UNABLE_TO_VERIFY_LEAF_SIGNATURE",
  "UNABLE_TO_GET_ISSUER_CERT",
  "UNABLE_TO_GET_ISSUER_CERT_LOCALLY",
  "SELF_SIGNED_CERT_IN_CHAIN",
  "DEPTH_ZERO_SELF_SIGNED_CERT",
  "CERT_SIGNATURE_FAILURE",
]);

/**
 * What went wrong in a TLS handshake with the engine, in the operator's
 * words, or `undefined` when `error` is no TLS failure.
 */
export function tlsProblem(error: unknown): string | undefined {
  const e = engineErrorOf(error);
  const code = e.code ?? "";
  const message = e.message ?? "";
  if (UNTRUSTED_SERVER.has(code)) return "its certificate is not signed by the CA capsule trusts";
  if (code === "CERT_HAS_EXPIRED") return "its certificate has expired";
  if (code === "CERT_NOT_YET_VALID") return "its certificate is not valid yet";
  if (code === "ERR_TLS_CERT_ALTNAME_INVALID") {
    return "its certificate is not for this host name or address";
  }
  if (
    /BAD_CERTIFICATE|BadCertificate|CERTIFICATE_EXPIRED|UNKNOWN_CA|UnknownCA/i.test(
      `${code} ${message}`,
    )
  ) {
    return "it refused capsule's client certificate (not signed by a CA it trusts, or expired)";
  }
  if (e.statusCode === 400 && /HTTP request to an HTTPS server/i.test(message)) {
    return "it speaks TLS: set docker.tls (or DOCKER_TLS_VERIFY and DOCKER_CERT_PATH)";
  }
  if (/^ERR_SSL|^ERR_TLS/.test(code) || /\b(TLS|SSL)\b|handshake/i.test(message)) {
    return "the TLS handshake failed";
  }
  return undefined;
}

export function unreachable(error: unknown): CapsuleError {
  return new CapsuleError(
    "ENGINE_UNREACHABLE",
    "Cannot start a container: the container engine is not reachable",
    { cause: error },
  );
}

/**
 * The error of a ping that got no answer from the engine at `where`: a TLS
 * failure (`ENGINE_TLS_FAILED`, which waiting will not cure) or
 * `ENGINE_UNREACHABLE`. Only the operator reads it.
 */
export function pingFailed(error: unknown, where: string): CapsuleError {
  const tls = tlsProblem(error);
  if (tls !== undefined) {
    return new CapsuleError(
      "ENGINE_TLS_FAILED",
      `Cannot use the container engine at ${where}: ${tls}`,
      {
        cause: error,
      },
    );
  }
  return new CapsuleError("ENGINE_UNREACHABLE", `Cannot reach the container engine at ${where}`, {
    cause: error,
  });
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

/**
 * Runs a resize, taking Podman's 201 for the success it is: Podman 4.3
 * answers an exec's resize with 201 Created where Docker answers 200, and
 * dockerode treats any status it was not told of as an error.
 */
export async function resized(request: Promise<unknown>): Promise<void> {
  try {
    await request;
  } catch (error) {
    if (engineErrorOf(error).statusCode !== 201) throw error;
  }
}

/**
 * Whether the engine refused to create a container because its name is
 * taken: Docker's 409, or Podman 4.3's 500 "... is already in use".
 */
export function isNameTaken(error: unknown): boolean {
  const status = engineErrorOf(error).statusCode;
  return status === 409 || (status === 500 && /is already in use/i.test(engineMessage(error)));
}

/**
 * Whether the engine refused an exec because the container is not running
 * (or is gone): Docker's 404 and 409, or Podman 4.3's 500 "container state
 * improper".
 */
export function isNotRunning(error: unknown): boolean {
  const status = engineErrorOf(error).statusCode;
  return status === 404 || status === 409 ||
    (status === 500 && /container state improper/i.test(engineMessage(error)));
}

/**
 * Whether a forced removal was refused because the container was stopping
 * at that moment: Podman 4.3's 500 "cannot remove container ... as it could
 * not be stopped: ... container state improper: stopped", for a container
 * whose process had just exited. A moment later the removal works.
 */
export function isStoppingRace(error: unknown): boolean {
  return engineErrorOf(error).statusCode === 500 &&
    /could not be stopped.*container state improper/is.test(engineMessage(error));
}
