/** The stable codes of a {@linkcode ClientError}. */
export type ClientErrorCode =
  /** capsule refused the login: no such user, or a user that needs a second factor. */
  | "LOGIN_FAILED"
  /** The client was closed, or its connection ended. */
  | "CLIENT_CLOSED"
  /** capsule refused to open a channel or start what it was asked to. */
  | "CHANNEL_FAILED"
  /** An SFTP request failed (its `cause` has the SFTP status). */
  | "SFTP_FAILED";

/** Why an in-process client ({@linkcode openClient}'s) could not do what it was asked. */
export class ClientError extends Error {
  /** Stable machine-readable code, e.g. `LOGIN_FAILED`. */
  readonly code: ClientErrorCode;

  /**
   * @param code stable error code
   * @param message what failed, sentence case, values quoted
   * @param options the underlying error, if any
   */
  constructor(code: ClientErrorCode, message: string, options: { cause?: unknown } = {}) {
    super(message, options.cause === undefined ? {} : { cause: options.cause });
    this.name = "ClientError";
    this.code = code;
  }
}
