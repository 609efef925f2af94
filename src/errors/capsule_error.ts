/**
 * A domain error with two audiences: a stable `code` and a `userMessage` that
 * is safe to show to the SSH user, and a `cause` that only the operator's log
 * sees.
 */
export class CapsuleError extends Error {
  /** Stable machine-readable code, e.g. `CONTAINER_CREATE_FAILED`. */
  readonly code: string;
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
    code: string,
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
