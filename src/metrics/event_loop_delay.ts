/** Options of {@linkcode EventLoopDelay}. */
export interface EventLoopDelayOptions {
  /** Milliseconds between probes. Default: 100. */
  intervalMs?: number;
  /** Called with each probe's delay, in seconds. */
  observe(seconds: number): void;
}

/**
 * Measures how late the event loop runs a timer: every probe sets one for
 * `intervalMs` and reports how much later than that it fired. Everything
 * capsule does (ssh2's protocol, the session pumps, the engine's streams)
 * runs on this one loop, so a delay here is a delay for every connection:
 * keystrokes echo late and transfers stall. The timer does not keep the
 * process alive.
 */
export class EventLoopDelay {
  readonly #intervalMs: number;
  readonly #observe: (seconds: number) => void;
  #timer: ReturnType<typeof setTimeout> | undefined;

  constructor(options: EventLoopDelayOptions) {
    this.#intervalMs = options.intervalMs ?? 100;
    this.#observe = options.observe;
  }

  /** Starts probing (again); a running probe is left as it is. */
  start(): void {
    if (this.#timer !== undefined) return;
    this.#probe();
  }

  /** Stops probing. */
  stop(): void {
    if (this.#timer !== undefined) clearTimeout(this.#timer);
    this.#timer = undefined;
  }

  #probe(): void {
    const due = performance.now() + this.#intervalMs;
    const timer = setTimeout(() => {
      this.#observe(Math.max(0, performance.now() - due) / 1000);
      this.#timer = undefined;
      this.#probe();
    }, this.#intervalMs);
    Deno.unrefTimer(timer);
    this.#timer = timer;
  }
}
