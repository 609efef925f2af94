import type { ContainerConfig } from "../config/types.ts";
import { describeError } from "../errors/mod.ts";
import type { Logger } from "../log/mod.ts";
import type { ContainerRuntime } from "../runtime/mod.ts";
import {
  containerLabels,
  hostContainerSpec,
  type PlacedProcess,
  type Placement,
  type SessionContext,
  sessionExecSpec,
} from "../session/mod.ts";
import { removedAfter } from "./fresh_container.ts";

/** Options of {@linkcode WarmPool}. */
export interface WarmPoolOptions {
  /** Value of the instance label. */
  instance: string;
  /** Owner ids of containers in use; the orphan sweep leaves their containers alone. */
  live: Set<string>;
  logger: Logger;
  /** Where sessions go when their profile has no pool, or the pool is empty. */
  fallback: Placement;
  /** Milliseconds to wait after a failed creation before trying again. */
  retryMs?: number;
}

/** A started container waiting for its session. */
interface Warm {
  id: string;
  /** Its owner id (`pool:<id>`), live from creation until removal. */
  owner: string;
  createdMs: number;
}

/** The pool of one container profile. */
interface ProfilePool {
  container: ContainerConfig;
  ready: Warm[];
  /** The refill loop, while it runs. */
  filling: Promise<void> | undefined;
  /** Set when the profile left the config or the server stops: no more refills. */
  stopped: boolean;
  /** Cuts short the wait before a retry. */
  wake: (() => void) | undefined;
}

const DEFAULT_RETRY_MS = 5_000;

/**
 * The warm pool of `session` mode: for each profile with `pool.size` set,
 * containers are created and started ahead of time. A session takes one,
 * runs in it as an exec, and the container is removed after it: each serves
 * exactly one session, so no session sees what another left. Taking one
 * starts a refill in the background; an empty pool falls back to a fresh
 * container, so a burst never waits for the pool.
 */
export class WarmPool implements Placement {
  readonly #runtime: ContainerRuntime;
  readonly #options: WarmPoolOptions;
  readonly #pools = new Map<string, ProfilePool>();
  #closed = false;

  /**
   * @param runtime the engine
   * @param options instance label, live-owner registry, logger and fallback
   */
  constructor(runtime: ContainerRuntime, options: WarmPoolOptions) {
    this.#runtime = runtime;
    this.#options = options;
  }

  /** How many containers wait ready, over all profiles. */
  get ready(): number {
    let count = 0;
    for (const pool of this.#pools.values()) count += pool.ready.length;
    return count;
  }

  /**
   * Keeps pools for exactly these profiles (the config's, after start-up or
   * a reload): fills new ones, empties the ones no longer listed.
   */
  configure(profiles: readonly ContainerConfig[]): void {
    const wanted = new Map<string, ContainerConfig>();
    for (const container of profiles) {
      if (container.mode === "session" && container.pool.size > 0) {
        wanted.set(profileKey(container), container);
      }
    }
    for (const [key, pool] of this.#pools) {
      if (!wanted.has(key)) void this.#drop(key, pool);
    }
    for (const container of wanted.values()) this.#poolFor(container);
  }

  async launch(ctx: SessionContext, container: ContainerConfig): Promise<PlacedProcess> {
    if (container.mode !== "session" || container.pool.size === 0 || this.#closed) {
      return this.#options.fallback.launch(ctx, container);
    }
    const pool = this.#poolFor(container);
    const warm = this.#take(pool);
    if (warm === undefined) {
      ctx.logger.debug("pool.empty");
      return this.#options.fallback.launch(ctx, container);
    }
    let process;
    try {
      process = await this.#runtime.exec(warm.id, sessionExecSpec(ctx, container));
    } catch (error) {
      ctx.logger.warn("pool.exec_failed", { error: describeError(error) });
      await this.#discard(warm);
      return this.#options.fallback.launch(ctx, container);
    }
    ctx.logger.info("container.start", {
      container: warm.id.slice(0, 12),
      mode: "pool",
      image: container.image,
      tty: ctx.pty !== undefined,
    });
    const lifetimeMs = container.maxLifetime > 0
      ? Math.max(1, container.maxLifetime * 1000 - (Date.now() - warm.createdMs))
      : 0;
    const placed = removedAfter(this.#runtime, ctx, process, container, lifetimeMs);
    return {
      ...placed,
      release: async () => {
        try {
          await placed.release();
        } finally {
          this.#options.live.delete(warm.owner);
        }
      },
    };
  }

  /** Stops refilling and removes every container still waiting. */
  async close(): Promise<void> {
    this.#closed = true;
    await Promise.all([...this.#pools].map(([key, pool]) => this.#drop(key, pool)));
  }

  #poolFor(container: ContainerConfig): ProfilePool {
    const key = profileKey(container);
    let pool = this.#pools.get(key);
    if (pool === undefined) {
      pool = { container, ready: [], filling: undefined, stopped: false, wake: undefined };
      this.#pools.set(key, pool);
      this.#fill(pool);
    }
    return pool;
  }

  /** The oldest ready container still within its lifetime; starts a refill. */
  #take(pool: ProfilePool): Warm | undefined {
    const maxMs = pool.container.maxLifetime * 1000;
    let warm: Warm | undefined;
    while ((warm = pool.ready.shift()) !== undefined) {
      if (maxMs === 0 || Date.now() - warm.createdMs < maxMs) break;
      void this.#discard(warm);
    }
    this.#fill(pool);
    return warm;
  }

  #fill(pool: ProfilePool): void {
    if (pool.filling !== undefined || pool.stopped || this.#closed) return;
    pool.filling = this.#refill(pool).finally(() => (pool.filling = undefined));
  }

  /** Creates containers one at a time until the pool is full; waits and retries on failure. */
  async #refill(pool: ProfilePool): Promise<void> {
    const { container } = pool;
    while (!pool.stopped && !this.#closed && pool.ready.length < container.pool.size) {
      const suffix = crypto.randomUUID().replaceAll("-", "").slice(0, 12);
      const owner = `pool:${suffix}`;
      this.#options.live.add(owner);
      let id: string;
      try {
        await this.#runtime.ensureImage(container.image, { policy: container.pull });
        id = await this.#runtime.start(hostContainerSpec(
          container,
          `capsule-pool-${suffix}`,
          containerLabels(this.#options.instance, { mode: "pool", owner, user: "" }, container),
        ));
      } catch (error) {
        this.#options.live.delete(owner);
        this.#options.logger.warn("pool.fill_failed", { error: describeError(error) });
        await new Promise<void>((resolve) => {
          const timer = setTimeout(resolve, this.#options.retryMs ?? DEFAULT_RETRY_MS);
          pool.wake = () => {
            clearTimeout(timer);
            resolve();
          };
        });
        pool.wake = undefined;
        continue;
      }
      const warm = { id, owner, createdMs: Date.now() };
      if (pool.stopped || this.#closed) {
        await this.#discard(warm);
        return;
      }
      pool.ready.push(warm);
      this.#options.logger.debug("pool.ready", {
        container: id.slice(0, 12),
        ready: pool.ready.length,
      });
    }
  }

  async #drop(key: string, pool: ProfilePool): Promise<void> {
    pool.stopped = true;
    pool.wake?.();
    if (this.#pools.get(key) === pool) this.#pools.delete(key);
    await pool.filling;
    const waiting = pool.ready.splice(0);
    await Promise.all(waiting.map((warm) => this.#discard(warm)));
  }

  /** Removes a container that never served a session. */
  async #discard(warm: Warm): Promise<void> {
    try {
      await this.#runtime.remove(warm.id);
    } catch (error) {
      this.#options.logger.warn("pool.remove_failed", {
        container: warm.id.slice(0, 12),
        error: describeError(error),
      });
    } finally {
      this.#options.live.delete(warm.owner);
    }
  }
}

/** Two configs with the same settings share a pool. */
function profileKey(container: ContainerConfig): string {
  return stableJson(container);
}

function stableJson(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(stableJson).join(",")}]`;
  if (typeof value === "object" && value !== null) {
    const entries = Object.entries(value).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
    return `{${entries.map(([k, v]) => `${JSON.stringify(k)}:${stableJson(v)}`).join(",")}}`;
  }
  return JSON.stringify(value);
}
