import { keysEqual, type PublicKey } from "./public_key.ts";

/** A key offered by a client: its algorithm name and SSH wire blob. */
type Key = Pick<PublicKey, "algo" | "data">;

/**
 * Public keys this process registered for one user each, for the length of
 * one in-process client connection (the library's `openClient`), never
 * written anywhere. The private halves are generated in memory and never
 * leave the process, so a client of the network listener can only log in
 * with one if it already runs inside this process.
 *
 * The {@linkcode Authenticator} consults it as one more key source, after
 * the config has said the user exists; everything else about the login
 * (second factors, limits, the container) is as for any key.
 *
 * @example
 * ```ts
 * const keys = new EphemeralKeys();
 * const remove = keys.add("alice", { algo: "ssh-ed25519", data: blob });
 * // ... log in with the private half ...
 * remove();
 * ```
 */
export class EphemeralKeys {
  readonly #entries = new Set<{ username: string; key: Key }>();

  /**
   * Accepts `key` for `username` until the returned function is called.
   *
   * @returns removes the key again (calling it twice does no harm)
   */
  add(username: string, key: Key): () => void {
    const entry = { username, key: { algo: key.algo, data: new Uint8Array(key.data) } };
    this.#entries.add(entry);
    return () => {
      this.#entries.delete(entry);
    };
  }

  /** The registered key equal to `key` for `username`, if any. */
  find(username: string, key: Key): PublicKey | undefined {
    for (const entry of this.#entries) {
      if (entry.username === username && keysEqual(key, entry.key)) {
        return { ...entry.key, comment: "ephemeral" };
      }
    }
    return undefined;
  }

  /** How many keys are registered now. */
  get size(): number {
    return this.#entries.size;
  }
}
