/**
 * Which containers each SSH connection's running sessions are in, so that
 * what the connection forwards lands in the same container as its shell
 * (VS Code opens a shell, then forwards through the same connection).
 */
export class ConnectionContainers {
  readonly #byConnection = new Map<string, string[]>();
  readonly #waiters = new Map<string, Set<(containerId: string) => void>>();

  /**
   * Notes that a session of `connectionId` runs in `containerId`.
   *
   * @returns the call that takes the note back when the session ends
   */
  add(connectionId: string, containerId: string): () => void {
    const ids = this.#byConnection.get(connectionId) ?? [];
    ids.push(containerId);
    this.#byConnection.set(connectionId, ids);
    const waiters = this.#waiters.get(connectionId);
    this.#waiters.delete(connectionId);
    for (const wake of waiters ?? []) wake(containerId);
    let removed = false;
    return () => {
      if (removed) return;
      removed = true;
      const left = this.#byConnection.get(connectionId) ?? [];
      const at = left.lastIndexOf(containerId);
      if (at >= 0) left.splice(at, 1);
      if (left.length === 0) this.#byConnection.delete(connectionId);
    };
  }

  /** The container of the connection's most recent running session, if any. */
  latest(connectionId: string): string | undefined {
    return this.#byConnection.get(connectionId)?.at(-1);
  }

  /**
   * The container of the connection's most recent running session, or, when
   * none runs, the first one placed within `ms` (`ssh -R` asks before the
   * session it forwards from has started); `undefined` if none comes.
   */
  async whenPlaced(connectionId: string, ms: number): Promise<string | undefined> {
    const now = this.latest(connectionId);
    if (now !== undefined || ms <= 0) return now;
    const placed = Promise.withResolvers<string | undefined>();
    const waiters = this.#waiters.get(connectionId) ?? new Set();
    waiters.add(placed.resolve);
    this.#waiters.set(connectionId, waiters);
    const timer = setTimeout(() => placed.resolve(undefined), ms);
    try {
      return await placed.promise;
    } finally {
      clearTimeout(timer);
      waiters.delete(placed.resolve);
      if (waiters.size === 0 && this.#waiters.get(connectionId) === waiters) {
        this.#waiters.delete(connectionId);
      }
    }
  }
}
