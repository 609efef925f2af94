/**
 * The stable codes of a {@linkcode CapsuleError}: what the operator's log
 * records, and what code that reacts to one error compares.
 */
export type CapsuleErrorCode =
  // Start-up
  /** A host key file is not a usable private key. */
  | "HOST_KEY_INVALID"
  /** A host key file cannot be read. */
  | "HOST_KEY_UNREADABLE"
  /** A host key of a type Deno cannot sign with (ECDSA). */
  | "HOST_KEY_UNSUPPORTED"
  /** `server.stateDir` cannot be written (a generated host key, shared-container claims). */
  | "STATE_DIR_UNWRITABLE"
  /** The per-user sockets of `server.userSockets` cannot be made (a directory, a socket). */
  | "USER_SOCKETS_FAILED"
  /** A well-known password on an address other than loopback. */
  | "WEAK_PASSWORD_ON_PUBLIC_ADDRESS"
  /** The config webhook's CA, client certificate or key cannot be read or used. */
  | "WEBHOOK_TLS_INVALID"
  /** capsule's static tools (sftp-server, scp, rsync, socat) are missing a file. */
  | "TOOLS_INCOMPLETE"
  // Sessions
  /** A user holds `limits.sessionsPerUser` sessions already. */
  | "SESSION_CAP_REACHED"
  /** The config webhook gave no usable settings for a login. */
  | "LOGIN_SETTINGS_FAILED"
  /** A user holds `limits.connectionsPerUser` connections already. */
  | "CONNECTION_CAP_REACHED"
  /** The server holds `limits.containers` containers already. */
  | "CONTAINER_CAP_REACHED"
  /** The client left before its session started. */
  | "CLIENT_GONE"
  /** The server is shutting down and starts no session. */
  | "SHUTTING_DOWN"
  /** The configured shell is not in the image. */
  | "SHELL_NOT_FOUND"
  /** The session's container was killed for memory. */
  | "OUT_OF_MEMORY"
  // The engine
  /** The engine does not answer. */
  | "ENGINE_UNREACHABLE"
  /** capsule's TLS files for the engine cannot be used (unreadable, not PEM, expired, wrong key). */
  | "ENGINE_TLS_INVALID"
  /** The TLS handshake with the engine failed (a certificate the other side does not accept). */
  | "ENGINE_TLS_FAILED"
  /** The engine stopped answering while a session ran. */
  | "ENGINE_LOST"
  /** The image is missing and could not be pulled, or its registry has no such tag. */
  | "IMAGE_NOT_FOUND"
  /** The registry refused the pull: no credentials, or wrong ones. */
  | "IMAGE_PULL_DENIED"
  /** The image's registry does not answer (refused, unresolvable, timed out, not HTTPS). */
  | "REGISTRY_UNREACHABLE"
  /** A pull failed for another reason (disk full, a corrupt layer...). */
  | "IMAGE_PULL_FAILED"
  /** A container of the same name exists. */
  | "NAME_IN_USE"
  | "CONTAINER_CREATE_FAILED"
  | "CONTAINER_START_FAILED"
  /** A shared or pooled container is no longer running. */
  | "CONTAINER_GONE"
  /** A session could not be exec'd into its container. */
  | "EXEC_FAILED"
  // capsule spawn
  /** `capsule spawn` cannot reach the daemon on its socket, or the daemon refused it. */
  | "SPAWN_FAILED";

/**
 * A domain error with two audiences: a stable `code` and a `userMessage` that
 * is safe to show to the SSH user, and a `cause` that only the operator's log
 * sees.
 */
export class CapsuleError extends Error {
  /** Stable machine-readable code, e.g. `CONTAINER_CREATE_FAILED`. */
  readonly code: CapsuleErrorCode;
  /** One line, safe to send to the SSH client. */
  readonly userMessage: string;
  /** Exit status the SSH client gets when this error ends a session. */
  readonly exitCode: number;

  /**
   * @param code stable error code
   * @param userMessage a line safe for the SSH user
   * @param options `cause` holds the underlying error for the operator;
   *   `exitCode` the session's exit status (default 125, as `docker run` uses
   *   for errors of the engine)
   */
  constructor(
    code: CapsuleErrorCode,
    userMessage: string,
    options: { cause?: unknown; exitCode?: number } = {},
  ) {
    super(userMessage, options.cause === undefined ? {} : { cause: options.cause });
    this.name = "CapsuleError";
    this.code = code;
    this.userMessage = userMessage;
    this.exitCode = options.exitCode ?? 125;
  }
}

/**
 * The line an SSH user sees for an error: the user message of a
 * {@linkcode CapsuleError}, otherwise a generic line with the session id so the
 * operator can find the details in the log.
 */
export function userMessageOf(error: unknown, sessionId: string): string {
  if (error instanceof CapsuleError) return error.userMessage;
  return `Internal error (session ${sessionId})`;
}

/** A short, single-line description of any thrown value for the operator's log. */
export function describeError(error: unknown): string {
  if (error instanceof Error) {
    const cause = error.cause === undefined ? "" : `: ${describeError(error.cause)}`;
    return `${error.message}${cause}`;
  }
  return String(error);
}
