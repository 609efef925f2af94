import type { Identity } from "../auth/mod.ts";
import { describeError } from "../errors/mod.ts";
import type { Logger } from "../log/mod.ts";
import type { EnvAllowList } from "./env_allow_list.ts";
import { tellUser } from "./tell_user.ts";
import type {
  ExitStatus,
  PtyInfo,
  SessionContext,
  SessionHandler,
  SessionIO,
  SessionRequest,
  WindowSize,
} from "./session_context.ts";

/** The channel-level operations a session needs besides its streams. */
export interface SessionChannel extends SessionIO {
  /** Sends `exit-status` or `exit-signal`, then EOF and close; resolves once they are sent. */
  finish(status: ExitStatus): Promise<void>;
}

/** Options of {@linkcode Session}. */
export interface SessionOptions {
  id: string;
  connectionId: string;
  identity: Identity;
  logger: Logger;
  envAllow: EnvAllowList;
  handler: SessionHandler;
  /** Most env requests accepted per session. */
  maxEnv?: number;
  /**
   * Why a `shell`, `exec` or `subsystem` request is refused (policy: an
   * unknown subsystem, SFTP turned off), or `undefined` to serve it.
   */
  refusal?(request: SessionRequest): string | undefined;
  /**
   * `auth-agent-req@openssh.com`: the socket in the container that will reach
   * the client's agent, or why agent forwarding is refused. Without it, it is.
   */
  forwardAgent?(): { socket: string } | { refused: string };
}

type State = "setup" | "running" | "closed";

const MAX_TERM = 64;
const TERM_PATTERN = /^[A-Za-z0-9._+-]+$/;
const MAX_DIMENSION = 10_000;

function clampSize(size: WindowSize): WindowSize {
  const clamp = (n: number) => Math.min(Math.max(Math.trunc(n) || 0, 1), MAX_DIMENSION);
  return { cols: clamp(size.cols), rows: clamp(size.rows) };
}

/**
 * One session channel's state machine: collects `pty-req` and `env` during
 * set-up, starts the handler once on `shell` or `exec`, forwards
 * `window-change` and `signal`, and ends with exactly one exit reply.
 * Requests in the wrong state are refused (the methods return `false`).
 */
export class Session {
  readonly id: string;
  readonly #options: SessionOptions;
  readonly #env: Record<string, string> = {};
  readonly #abort = new AbortController();
  readonly #resizeListeners: ((size: WindowSize) => void)[] = [];
  readonly #signalListeners: ((name: string) => void)[] = [];
  #state: State = "setup";
  #pty: PtyInfo | undefined;
  #envCount = 0;
  #agentSocket: string | undefined;
  #done: Promise<void> = Promise.resolve();
  #ctx: SessionContext | undefined;

  /** @param options identity, handler and limits of the session */
  constructor(options: SessionOptions) {
    this.id = options.id;
    this.#options = options;
  }

  /**
   * Resolves when the handler has finished and the exit reply is sent (or at
   * once if the session never started).
   */
  get done(): Promise<void> {
    return this.#done;
  }

  /** Whether a `shell` or `exec` request would be accepted now. */
  get canStart(): boolean {
    return this.#state === "setup";
  }

  /**
   * Whether `request` may start this session, by policy; a refusal is logged
   * (`session.refused`) and the channel stays open for another request.
   */
  admits(request: SessionRequest): boolean {
    const reason = this.#options.refusal?.(this.#forced(request));
    if (reason === undefined) return true;
    this.#options.logger.info("session.refused", {
      kind: request.kind,
      ...(request.kind === "subsystem" ? { subsystem: request.name.slice(0, 64) } : {}),
      reason,
    });
    return false;
  }

  /** `pty-req`: accepted once, before the session starts. */
  pty(info: PtyInfo): boolean {
    if (this.#state !== "setup" || this.#pty !== undefined) return false;
    const certificate = this.#options.identity.certificate;
    if (certificate && !certificate.permitPty) {
      this.#options.logger.info("session.pty_refused", {
        reason: "the certificate does not permit a pty (no permit-pty)",
      });
      return false;
    }
    const term = TERM_PATTERN.test(info.term) && info.term.length <= MAX_TERM ? info.term : "xterm";
    this.#pty = { term, ...clampSize(info) };
    return true;
  }

  /** `env`: accepted before start when the allow-list passes the name. */
  env(name: string, value: string): boolean {
    if (this.#state !== "setup") return false;
    if (++this.#envCount > (this.#options.maxEnv ?? 64)) return false;
    if (!this.#options.envAllow.allows(name, value)) {
      this.#options.logger.debug("session.env_refused", { name: name.slice(0, 64) });
      return false;
    }
    this.#env[name] = value;
    return true;
  }

  /** `auth-agent-req@openssh.com`: accepted before start when policy allows agent forwarding. */
  agent(): boolean {
    if (this.#state !== "setup") return false;
    if (this.#agentSocket !== undefined) return true;
    const decision = this.#options.forwardAgent?.() ??
      { refused: "agent forwarding is not available" };
    if ("refused" in decision) {
      this.#options.logger.info("forward.refused", { kind: "agent", reason: decision.refused });
      return false;
    }
    this.#agentSocket = decision.socket;
    return true;
  }

  /**
   * What runs: the request, or the certificate's `force-command` in its
   * place (for a shell, an exec and a subsystem alike, as with sshd).
   */
  #forced(request: SessionRequest): SessionRequest {
    const command = this.#options.identity.certificate?.forceCommand;
    return command === undefined ? request : { kind: "exec", command };
  }

  /** `window-change`: updates the size; forwarded once running. */
  windowChange(size: WindowSize): void {
    if (this.#pty === undefined || this.#state === "closed") return;
    const clamped = clampSize(size);
    this.#pty = { ...this.#pty, ...clamped };
    if (this.#state === "running") {
      for (const listener of this.#resizeListeners) listener(clamped);
    }
  }

  /** `signal`: forwarded to the running process. */
  signal(name: string): boolean {
    if (this.#state !== "running" || !/^[A-Z0-9]{1,16}$/.test(name)) return false;
    for (const listener of this.#signalListeners) listener(name);
    return true;
  }

  /**
   * `shell` or `exec`: starts the handler once. The channel gets exactly one
   * exit reply when the handler ends, unless the client closed it first.
   */
  start(asked: SessionRequest, channel: SessionChannel): boolean {
    if (this.#state !== "setup") return false;
    this.#state = "running";
    const request = this.#forced(asked);
    const env = { ...this.#env };
    // As sshd does for a forced command: what the client asked for, for the command to read.
    if (request !== asked && asked.kind === "exec") env.SSH_ORIGINAL_COMMAND = asked.command;
    const ctx: SessionContext = {
      id: this.id,
      connectionId: this.#options.connectionId,
      identity: this.#options.identity,
      request,
      pty: this.#pty,
      env,
      ...(this.#agentSocket !== undefined ? { agentSocket: this.#agentSocket } : {}),
      io: channel,
      logger: this.#options.logger,
      signal: this.#abort.signal,
      onResize: (listener) => {
        this.#resizeListeners.push(listener);
        // Window changes that came while the handler was starting its process
        // had no listener yet; hand the latest one over now.
        const now = this.#pty;
        if (ctx.pty && now && (now.cols !== ctx.pty.cols || now.rows !== ctx.pty.rows)) {
          listener({ cols: now.cols, rows: now.rows });
        }
      },
      onSignal: (listener) => this.#signalListeners.push(listener),
    };
    this.#ctx = ctx;
    this.#done = this.#run(ctx, channel);
    return true;
  }

  async #run(ctx: SessionContext, channel: SessionChannel): Promise<void> {
    let status: ExitStatus;
    try {
      status = await this.#options.handler(ctx);
    } catch (error) {
      // Handlers are wrapped in error recovery; this is the last guard.
      this.#options.logger.error("session.unhandled_error", { error: describeError(error) });
      status = { code: 255 };
    }
    if (this.#state !== "closed") {
      this.#state = "closed";
      await channel.finish(status);
    }
  }

  /** Tells the user something (one `capsule: ...` line on stderr) if the session is running. */
  notice(message: string): void {
    if (this.#state === "running" && this.#ctx) void tellUser(this.#ctx, message);
  }

  /** The client closed the channel, or the connection dropped: stop the session. */
  close(): void {
    this.#state = "closed";
    this.#abort.abort(new Error("Session channel closed"));
  }
}
