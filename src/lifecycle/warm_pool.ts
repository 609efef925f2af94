import type { ContainerConfig } from "../config/types.ts";
import { describeError } from "../errors/mod.ts";
import type { Logger } from "../log/mod.ts";
import type { ContainerRuntime, RunningProcess } from "../runtime/mod.ts";
import type { PlacedProcess, Placement, SessionContext } from "../session/mod.ts";
import { containerLabels, hostContainerSpec, sessionExecSpec } from "./_container_spec.ts";
import { afterMs, lifetimeLeftMs } from "./_lifetime_signal.ts";
import { ownerLiveUntilReleased, removedAfter } from "./_removed_after.ts";
import type { ContainerAlarms } from "./container_alarms.ts";

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
  /** Raised for a container over a limit: its session ends. */
  alarms?: ContainerAlarms;
}

/** A started container waiting for its session. */
interface Warm {
  id: string;
  /** Its owner id (`pool:<id>`), live from creation until removal. */
  owner: string;
  createdMs: number;
  /** Cancels the timer that discards it at its maximum lifetime. */
  cancelExpiry?: () => void;
}

/** The pool of one container profile. */
interface ProfilePool {
  container: ContainerConfig;
  ready: Warm[];
  /** The refill workers running. */
  workers: Set<Promise<void>>;
  /** Containers being created. */
  creating: number;
  /** Aborted when the profile left the config or the server stops: no more refills. */
  stopped: AbortController;
}

const DEFAULT_RETRY_MS = 5_000;
/**
 * Containers created at once per pool. The engine starts a container in
 * ~150 ms here, slower than short sessions come one after another; two at a
 * time keep up without crowding out the sessions' own containers.
 */
const REFILL_WORKERS = 2;

/** Waits `ms`, or less if `signal` aborts. */
function sleep(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    const done = () => {
      clearTimeout(timer);
      signal.removeEventListener("abort", done);
      resolve();
    };
    const timer = setTimeout(done, ms);
    signal.addEventListener("abort", done, { once: true });
  });
}

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
  /** Pools being emptied. */
  readonly #dropping = new Set<Promise<void>>();
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
   * Keeps pools for exactly these profiles (after start-up or a reload):
   * fills new ones, empties the ones no longer listed. A session whose
   * profile has no pool here gets a fresh container, so idle containers
   * are only ever held for the profiles the operator listed.
   */
  configure(profiles: readonly ContainerConfig[]): void {
    const wanted = new Map<string, ContainerConfig>();
    for (const container of profiles) {
      if (container.mode === "session" && container.pool.size > 0) {
        wanted.set(profileKey(container), container);
      }
    }
    for (const [key, pool] of this.#pools) {
      if (!wanted.has(key)) this.#dropLater(key, pool);
    }
    for (const [key, container] of wanted) {
      if (this.#pools.has(key) || this.#closed) continue;
      const pool: ProfilePool = {
        container,
        ready: [],
        workers: new Set(),
        creating: 0,
        stopped: new AbortController(),
      };
      this.#pools.set(key, pool);
      this.#fill(pool);
    }
  }

  async launch(ctx: SessionContext, container: ContainerConfig): Promise<PlacedProcess> {
    const pool = container.mode === "session" && !this.#closed
      ? this.#pools.get(profileKey(container))
      : undefined;
    if (pool === undefined) return this.#options.fallback.launch(ctx, container);
    const warm = this.#take(pool);
    if (warm === undefined) {
      ctx.logger.debug("pool.empty");
      return this.#options.fallback.launch(ctx, container);
    }
    let running: RunningProcess;
    try {
      running = await this.#runtime.exec(warm.id, sessionExecSpec(ctx, container));
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
    const lifetimeMs = lifetimeLeftMs(container, warm.createdMs);
    return ownerLiveUntilReleased(
      removedAfter(this.#runtime, ctx, {
        process: running,
        container,
        lifetimeMs,
        ...(this.#options.alarms ? { alarms: this.#options.alarms } : {}),
      }),
      this.#options.live,
      warm.owner,
    );
  }

  /** Stops refilling and removes every container still waiting, dropped pools' too. */
  async close(): Promise<void> {
    this.#closed = true;
    for (const [key, pool] of this.#pools) this.#dropLater(key, pool);
    await Promise.all(this.#dropping);
  }

  /** Drops a pool in the background; {@linkcode close} waits for it. */
  #dropLater(key: string, pool: ProfilePool): void {
    const dropping: Promise<void> = this.#drop(key, pool).finally(() =>
      this.#dropping.delete(dropping)
    );
    this.#dropping.add(dropping);
  }

  /** Discards a waiting container when it reaches its maximum lifetime, and refills. */
  #expireLater(pool: ProfilePool, warm: Warm): void {
    const maxMs = pool.container.maxLifetime * 1000;
    if (maxMs === 0) return;
    warm.cancelExpiry = afterMs(maxMs - (Date.now() - warm.createdMs), () => {
      const at = pool.ready.indexOf(warm);
      if (at < 0) return;
      pool.ready.splice(at, 1);
      void this.#discard(warm);
      this.#fill(pool);
    });
  }

  /** The oldest ready container still within its lifetime; starts a refill. */
  #take(pool: ProfilePool): Warm | undefined {
    const maxMs = pool.container.maxLifetime * 1000;
    let warm: Warm | undefined;
    while ((warm = pool.ready.shift()) !== undefined) {
      warm.cancelExpiry?.();
      if (maxMs === 0 || Date.now() - warm.createdMs < maxMs) break;
      void this.#discard(warm);
    }
    this.#fill(pool);
    return warm;
  }

  /** Starts refill workers, up to {@linkcode REFILL_WORKERS} and what the pool lacks. */
  #fill(pool: ProfilePool): void {
    if (pool.stopped.signal.aborted || this.#closed) return;
    const lacking = pool.container.pool.size - pool.ready.length - pool.creating;
    const room = Math.min(REFILL_WORKERS - pool.workers.size, lacking);
    for (let i = 0; i < room; i++) {
      const worker: Promise<void> = this.#refill(pool).finally(() => pool.workers.delete(worker));
      pool.workers.add(worker);
    }
  }

  /** Creates containers until the pool is full; waits and retries on failure. */
  async #refill(pool: ProfilePool): Promise<void> {
    const { container } = pool;
    const stopped = pool.stopped.signal;
    while (
      !stopped.aborted && !this.#closed &&
      pool.ready.length + pool.creating < container.pool.size
    ) {
      const suffix = crypto.randomUUID().replaceAll("-", "").slice(0, 12);
      const owner = `pool:${suffix}`;
      this.#options.live.add(owner);
      pool.creating++;
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
        await sleep(this.#options.retryMs ?? DEFAULT_RETRY_MS, stopped);
        continue;
      } finally {
        pool.creating--;
      }
      const warm = { id, owner, createdMs: Date.now() };
      if (stopped.aborted || this.#closed) {
        await this.#discard(warm);
        return;
      }
      pool.ready.push(warm);
      this.#expireLater(pool, warm);
      this.#options.logger.debug("pool.ready", {
        container: id.slice(0, 12),
        ready: pool.ready.length,
      });
    }
  }

  async #drop(key: string, pool: ProfilePool): Promise<void> {
    pool.stopped.abort();
    if (this.#pools.get(key) === pool) this.#pools.delete(key);
    await Promise.all(pool.workers);
    const waiting = pool.ready.splice(0);
    await Promise.all(waiting.map((warm) => this.#discard(warm)));
  }

  /** Removes a container that never served a session. */
  async #discard(warm: Warm): Promise<void> {
    warm.cancelExpiry?.();
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
