/** Options of {@linkcode SessionClock}. */
export interface SessionClockOptions {
  /** Milliseconds without input or output before the session ends; 0 for none. */
  idleMs: number;
  /** Milliseconds the session may last; 0 for none. */
  maxMs: number;
  /** Called once when the user should be warned of an idle end. */
  warn(message: string): void;
  /** Called once when the session must end, with the reason for the user. */
  expire(reason: string): void;
  /** Milliseconds between checks (default: a tenth of the shortest limit, at most 1000). */
  tickMs?: number;
}

const seconds = (ms: number) => `${Math.round(ms / 1000)} s`;

/**
 * Watches one session's idle time and total duration. Input and output call
 * {@linkcode touch}; the user is warned before an idle end (a quarter of the
 * idle time before, at most a minute), and `expire` is called once.
 */
export class SessionClock {
  readonly #options: SessionClockOptions;
  readonly #started = Date.now();
  #last = Date.now();
  #warned = false;
  #timer: ReturnType<typeof setInterval> | undefined;
  #expired: string | undefined;

  /** @param options limits and callbacks */
  constructor(options: SessionClockOptions) {
    this.#options = options;
    if (options.idleMs > 0 || options.maxMs > 0) {
      const shortest = Math.min(...[options.idleMs, options.maxMs].filter((ms) => ms > 0));
      const tick = options.tickMs ?? Math.max(10, Math.min(1000, shortest / 10));
      this.#timer = setInterval(() => this.#check(), tick);
    }
  }

  /** Why the session was ended, if it was. */
  get expired(): string | undefined {
    return this.#expired;
  }

  /** Input or output happened. */
  touch(): void {
    this.#last = Date.now();
    this.#warned = false;
  }

  /** Ends the session now for `reason` (e.g. its container's lifetime ran out). */
  end(reason: string): void {
    this.#expire(reason);
  }

  /** Stops watching. */
  stop(): void {
    clearInterval(this.#timer);
  }

  #check(): void {
    const now = Date.now();
    const { idleMs, maxMs } = this.#options;
    if (maxMs > 0 && now - this.#started >= maxMs) {
      return this.#expire(`session ended: it reached its maximum time of ${seconds(maxMs)}`);
    }
    if (idleMs <= 0) return;
    const idle = now - this.#last;
    if (idle >= idleMs) return this.#expire(`session ended: idle for ${seconds(idleMs)}`);
    const warnAt = idleMs - Math.min(60_000, idleMs / 4);
    if (idle >= warnAt && !this.#warned) {
      this.#warned = true;
      this.#options.warn(
        `session idle: it ends in ${seconds(idleMs - idle)} without input or output`,
      );
    }
  }

  #expire(reason: string): void {
    this.stop();
    if (this.#expired !== undefined) return;
    this.#expired = reason;
    this.#options.expire(reason);
  }
}
