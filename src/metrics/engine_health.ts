/** Options of {@linkcode EngineHealth}. */
export interface EngineHealthOptions {
  /** Asks the engine whether it answers; rejects when it does not. */
  ping(): Promise<void>;
  /** Milliseconds between pings; an answer older than this (plus one ping's time) is stale. */
  intervalMs: number;
}

/**
 * Pings the container engine at an interval and says whether it answered
 * recently enough for the server to be ready.
 */
export class EngineHealth {
  readonly #options: EngineHealthOptions;
  #lastOk: number | undefined;
  #timer: ReturnType<typeof setTimeout> | undefined;
  #stopped = false;
  #pinging: Promise<void> | undefined;

  /** @param options how to ping, and how often */
  constructor(options: EngineHealthOptions) {
    this.#options = options;
  }

  /** Whether the engine answered a ping within the last interval (and a ping's time). */
  get ok(): boolean {
    return this.#lastOk !== undefined &&
      performance.now() - this.#lastOk <= 2 * this.#options.intervalMs;
  }

  /** Pings now, then every interval until {@linkcode stop}. */
  start(): void {
    const tick = () => {
      this.#pinging = this.#ping().finally(() => {
        if (!this.#stopped) this.#timer = setTimeout(tick, this.#options.intervalMs);
      });
    };
    tick();
  }

  /** Stops pinging; resolves once a ping in flight settled. */
  async stop(): Promise<void> {
    this.#stopped = true;
    clearTimeout(this.#timer);
    await this.#pinging;
  }

  async #ping(): Promise<void> {
    try {
      await this.#options.ping();
      this.#lastOk = performance.now();
    } catch {
      this.#lastOk = undefined;
    }
  }
}
