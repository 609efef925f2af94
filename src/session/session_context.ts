import type { Identity } from "../auth/mod.ts";
import type { Logger } from "../log/mod.ts";

/** Terminal size in character cells. */
export interface WindowSize {
  cols: number;
  rows: number;
}

/** What a `pty-req` asked for. */
export interface PtyInfo extends WindowSize {
  /** The `TERM` value, e.g. `xterm-256color`. */
  term: string;
}

/** What the client asked the session to run. */
export type SessionRequest =
  | { kind: "shell" }
  | { kind: "exec"; command: string }
  | {
    kind: "subsystem";
    name: string;
    /** Have the subsystem log its operations on stderr (set by the audit, which reads them). */
    log?: true;
  };

/** How a session's process ended, as sent back to the client. */
export type ExitStatus =
  | { code: number }
  | { signal: string; coreDumped?: boolean; message?: string };

/**
 * The session's channel as the session logic sees it: no SSH library types.
 * The SSH layer implements it over its channel.
 */
export interface SessionIO {
  /** Bytes from the client; ends when the client sends EOF. */
  readonly stdin: AsyncIterable<Uint8Array>;
  /**
   * Writes to the client's stdout or stderr and resolves once the SSH layer
   * took the bytes within the client's window. Writes are serialized across
   * both streams. Rejects when the channel is closed.
   */
  write(stream: "stdout" | "stderr", data: Uint8Array): Promise<void>;
}

/** Everything a {@linkcode SessionHandler} needs about one started session. */
export interface SessionContext {
  /** Short unique id of the session. */
  readonly id: string;
  /** Id of the SSH connection the session came in on. */
  readonly connectionId: string;
  /** Who authenticated; comes only from a verified credential. */
  readonly identity: Identity;
  readonly request: SessionRequest;
  /** Present when the client requested a TTY; size is the latest known. */
  readonly pty: PtyInfo | undefined;
  /**
   * The socket in the container that reaches the client's agent, when the
   * client asked for agent forwarding (`ssh -A`) and policy allowed it: the
   * session's `SSH_AUTH_SOCK`.
   */
  readonly agentSocket?: string;
  /** Client environment that passed the allow-list. */
  readonly env: Readonly<Record<string, string>>;
  readonly io: SessionIO;
  /** A logger carrying the connection, session and user. */
  readonly logger: Logger;
  /** Aborted when the client closes the channel or the connection drops. */
  readonly signal: AbortSignal;
  /**
   * Registers a callback for window-change requests. A size that changed
   * between `start` and this call (while the container was starting) is
   * passed to the listener at once, so the process ends up with the last
   * size the client sent, whatever the timing.
   */
  onResize(listener: (size: WindowSize) => void): void;
  /** Registers a callback for `signal` requests (names without `SIG`, e.g. `INT`). */
  onSignal(listener: (name: string) => void): void;
}

/** Runs one session to its end and says how it ended. */
export type SessionHandler = (ctx: SessionContext) => Promise<ExitStatus>;

/** A layer around a handler: logging, error recovery, policy. */
export type SessionMiddleware = (next: SessionHandler) => SessionHandler;

/**
 * Composes middleware around a handler; the first listed is the outermost.
 *
 * @example
 * ```ts
 * const handler = composeSession([logSession(), recoverErrors()], containerHandler(runtime, config));
 * ```
 */
export function composeSession(
  middleware: readonly SessionMiddleware[],
  handler: SessionHandler,
): SessionHandler {
  return middleware.reduceRight((next, layer) => layer(next), handler);
}
