import { CapsuleError } from "../errors/mod.ts";
import type { ProcessTokens } from "./process_beacon.ts";

/**
 * One process's claim on a persistent container: it holds it now (`held`), or
 * let go of it and promised it a grace period until `until` (ms since the epoch).
 */
interface Claim {
  held: boolean;
  until: number;
}

/** The claims on one container, by process token. */
type Claims = Record<string, Claim>;

/** What {@linkcode SharedHolds.release} found. */
export interface ReleaseOutcome {
  /**
   * When this process should try to remove the container: `undefined` when a
   * live process still holds it or will remove it itself (no need to wait).
   */
  retireAt: number | undefined;
}

/** Options of {@linkcode SharedHolds}. */
export interface SharedHoldsOptions {
  /** Directory of the claim files (made when missing): `<server.stateDir>/containers`. */
  dir: string;
  /** This process's token and a judge of other processes'. */
  tokens: ProcessTokens;
  /** The clock, in ms since the epoch (tests). */
  now?: () => number;
}

/**
 * Claims of capsule processes on persistent containers, kept in files beside
 * each other under the state directory and changed under an exclusive file
 * lock (`flock`), so that processes serving one instance (a server and its
 * `serve --stdio` siblings, one per connection) share a user's container:
 *
 * - a process that uses the container holds it ({@linkcode locked} + `hold`);
 * - one that no longer does releases it with its grace period; the container
 *   goes only when no live process holds it and every grace promised has run
 *   out, and it is the process that promised the latest grace that removes it;
 * - a process that died while holding stops counting; a grace it promised
 *   still does (the orphan sweep removes the container once it has run out).
 */
export class SharedHolds {
  readonly #options: SharedHoldsOptions;
  readonly #now: () => number;

  /** @param options where the claims are and whose they are */
  constructor(options: SharedHoldsOptions) {
    this.#options = options;
    this.#now = options.now ?? Date.now;
  }

  /**
   * Runs `work` with the claims on `name` locked against every other process.
   * `work` gets whether the container may be taken over as it is (a live
   * process holds it, or a grace is still running) and marks this process as
   * holding it.
   */
  async locked<T>(name: string, work: (wanted: boolean) => Promise<T>): Promise<T> {
    return await this.#withLock(name, async (claims, alive) => {
      const wanted = this.#wanted(claims, alive);
      const result = await work(wanted);
      claims[this.#options.tokens.self] = { held: true, until: 0 };
      return result;
    });
  }

  /**
   * This process no longer uses `name`; it promises the container `graceMs`
   * more milliseconds.
   */
  async release(name: string, graceMs: number): Promise<ReleaseOutcome> {
    return await this.#withLock(name, (claims, alive) => {
      const until = this.#now() + graceMs;
      claims[this.#options.tokens.self] = { held: false, until };
      const someoneElse = this.#others(claims).some(([token, claim]) =>
        alive.has(token) && (claim.held || claim.until >= until)
      );
      return Promise.resolve({ retireAt: someoneElse ? undefined : until });
    });
  }

  /**
   * Removes the container with `remove` unless another claim keeps it (a
   * live process holds it, or a grace period promised by another process
   * runs); this process's own claim goes either way.
   *
   * @returns whether `remove` ran
   */
  async retire(name: string, remove: () => Promise<void>): Promise<boolean> {
    return await this.#withLock(name, async (claims, alive) => {
      delete claims[this.#options.tokens.self];
      if (this.#wanted(claims, alive)) return false;
      await remove();
      for (const token of Object.keys(claims)) delete claims[token];
      return true;
    });
  }

  /** Whether a live process holds `name` or a grace promised for it still runs (the orphan sweep). */
  async wanted(name: string): Promise<boolean> {
    return await this.#withLock(
      name,
      (claims, alive) => Promise.resolve(this.#wanted(claims, alive)),
    );
  }

  #wanted(claims: Claims, alive: ReadonlySet<string>): boolean {
    const now = this.#now();
    return Object.entries(claims).some(([token, claim]) =>
      (claim.held && alive.has(token)) || claim.until > now
    );
  }

  #others(claims: Claims): [string, Claim][] {
    return Object.entries(claims).filter(([token]) => token !== this.#options.tokens.self);
  }

  /**
   * Runs `work` on the claims on `name` under the lock, with the processes
   * that claim it and live (or cannot be judged: their containers are never
   * taken from them), and writes back what it changed.
   */
  async #withLock<T>(
    name: string,
    work: (claims: Claims, alive: ReadonlySet<string>) => Promise<T>,
  ): Promise<T> {
    if (!/^[A-Za-z0-9_.-]+$/.test(name)) throw new TypeError(`Invalid container name "${name}"`);
    const dir = this.#options.dir;
    let file: Deno.FsFile;
    try {
      await Deno.mkdir(dir, { recursive: true, mode: 0o700 });
      file = await Deno.open(`${dir}/${name}.lock`, { create: true, write: true, mode: 0o600 });
    } catch (error) {
      throw new CapsuleError(
        "STATE_DIR_UNWRITABLE",
        "Cannot start the shared container: the server's state directory is not writable",
        { cause: error },
      );
    }
    try {
      await file.lock(true);
      const path = `${dir}/${name}.json`;
      const claims = await readClaims(path);
      const alive = new Set<string>();
      for (const token of Object.keys(claims)) {
        if ((await this.#options.tokens.isAlive(token)) !== false) alive.add(token);
      }
      const result = await work(claims, alive);
      if (Object.keys(claims).length === 0) await Deno.remove(path).catch(() => {});
      else await writeAtomically(path, JSON.stringify(claims));
      return result;
    } finally {
      file.close(); // drops the lock
    }
  }
}

async function readClaims(path: string): Promise<Claims> {
  let text: string;
  try {
    text = await Deno.readTextFile(path);
  } catch (error) {
    if (error instanceof Deno.errors.NotFound) return {};
    throw error;
  }
  try {
    const parsed: unknown = JSON.parse(text);
    if (typeof parsed !== "object" || parsed === null || Array.isArray(parsed)) return {};
    const claims: Claims = {};
    for (const [token, claim] of Object.entries(parsed as Record<string, unknown>)) {
      const { held, until } = (claim ?? {}) as Partial<Claim>;
      if (typeof held === "boolean" && typeof until === "number") claims[token] = { held, until };
    }
    return claims;
  } catch {
    return {}; // a torn file from a crash: nothing trustworthy in it
  }
}

async function writeAtomically(path: string, text: string): Promise<void> {
  const temp = `${path}.${crypto.randomUUID().slice(0, 8)}.tmp`;
  await Deno.writeTextFile(temp, text, { mode: 0o600 });
  await Deno.rename(temp, path);
}
