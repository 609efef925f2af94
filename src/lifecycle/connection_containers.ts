/**
 * Which containers each SSH connection's running sessions are in, so that
 * what the connection forwards lands in the same container as its shell
 * (VS Code opens a shell, then forwards through the same connection).
 */
export class ConnectionContainers {
  readonly #byConnection = new Map<string, string[]>();

  /**
   * Notes that a session of `connectionId` runs in `containerId`.
   *
   * @returns the call that takes the note back when the session ends
   */
  add(connectionId: string, containerId: string): () => void {
    const ids = this.#byConnection.get(connectionId) ?? [];
    ids.push(containerId);
    this.#byConnection.set(connectionId, ids);
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
}
