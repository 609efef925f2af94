/**
 * Counts the forwarded channels each connection has open, whatever their
 * kind (`-L`, `-D`, `-R`, agent), against `limits.forwardsPerConnection`.
 */
export class ForwardBudget {
  readonly #open = new Map<string, number>();
  readonly #cap: () => number;

  /** @param cap the cap, read at each request; 0 for none */
  constructor(cap: () => number) {
    this.#cap = cap;
  }

  /**
   * Takes one channel for `connectionId`.
   *
   * @returns the call that gives it back (idempotent), or `undefined` at the cap
   */
  take(connectionId: string): (() => void) | undefined {
    const open = this.#open.get(connectionId) ?? 0;
    const cap = this.#cap();
    if (cap > 0 && open >= cap) return undefined;
    this.#open.set(connectionId, open + 1);
    let given = false;
    return () => {
      if (given) return;
      given = true;
      const left = (this.#open.get(connectionId) ?? 1) - 1;
      if (left > 0) this.#open.set(connectionId, left);
      else this.#open.delete(connectionId);
    };
  }

  /** The cap now, for messages. */
  get cap(): number {
    return this.#cap();
  }
}
