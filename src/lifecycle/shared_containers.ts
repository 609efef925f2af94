import type { ContainerConfig } from "../config/types.ts";
import { CapsuleError, type CapsuleErrorCode, describeError } from "../errors/mod.ts";
import type { Logger } from "../log/mod.ts";
import {
  type ContainerRuntime,
  type ContainerSpec,
  LABELS,
  type RunningProcess,
} from "../runtime/mod.ts";
import {
  type PlacedProcess,
  type Placement,
  reportPullProgress,
  type SessionContext,
} from "../session/mod.ts";
import { containerLabels, hostContainerSpec, sessionExecSpec } from "./_container_spec.ts";
import { afterMs, lifetimeReason, lifetimeSignal } from "./_lifetime_signal.ts";
import { clientGone, shuttingDown } from "./_placement_errors.ts";
import type { ContainerAlarms } from "./container_alarms.ts";
import type { SharedHolds } from "./shared_holds.ts";

/** Errors that say the shared container is dead: it is removed, so the next session starts afresh. */
const DEAD_CONTAINER = new Set<CapsuleErrorCode>(["CONTAINER_GONE", "SHELL_NOT_FOUND"]);

/** Options of {@linkcode SharedContainers}. */
export interface SharedContainersOptions {
  /** Value of the instance label. */
  instance: string;
  /** Owner ids of containers in use; the orphan sweep leaves their containers alone. */
  live: Set<string>;
  logger: Logger;
  /** Raised for a container over a limit: it goes, and every session in it is told why. */
  alarms?: ContainerAlarms;
  /**
   * Claims shared with the other processes of this instance (`serve --stdio`
   * siblings), for `persistent` containers. Without it, this process assumes
   * it is the only one.
   */
  holds?: SharedHolds;
}

/** Who takes a hold on a shared container. */
interface Holder {
  connectionId: string;
  username: string;
}

/** One shared container and who holds it. */
interface Entry {
  /** `connection:<id>` or `user:<name>`; also the owner label. */
  key: string;
  mode: "connection" | "persistent";
  user: string;
  /** Resolves with the container id once it runs; every racing session awaits the same one. */
  ready: Promise<string>;
  /** Sessions running in it. */
  sessions: number;
  /** Open connections that have had a session in it. */
  connections: Set<string>;
  /** Milliseconds it is kept once nobody holds it. */
  graceMs: number;
  /** Cancels the grace timer, while it runs. */
  grace: (() => void) | undefined;
  /** Aborted, with the reason for the user, at the maximum lifetime or on an alarm. */
  lifetime: { signal: AbortSignal; cancel(): void };
  /** The container's name, once known. */
  name: Promise<string>;
  /** Changes of this process's claim on the container, in order (persistent mode with holds). */
  claims: Promise<unknown>;
  /** Whether this process's claim says it let go (a session that comes back claims it again). */
  released: boolean;
}

/**
 * `connection` and `persistent` modes: one container per SSH connection, or
 * one per user, that every session of it is exec'd into. A container is held
 * by its running sessions and by the open connections that used it; once
 * nobody holds it, it is removed (`connection` mode) or kept for the grace
 * period (`persistent` mode), and a session that comes back within it lands
 * in the same container. Sessions racing to create a container share one
 * creation, so they end up in one container.
 */
export class SharedContainers implements Placement {
  readonly #runtime: ContainerRuntime;
  readonly #options: SharedContainersOptions;
  readonly #entries = new Map<string, Entry>();
  /** Removals in progress, by key: a new container of the same name waits for them. */
  readonly #retiring = new Map<string, Promise<void>>();
  #closed = false;

  /**
   * @param runtime the engine
   * @param options instance label, live-owner registry and logger
   */
  constructor(runtime: ContainerRuntime, options: SharedContainersOptions) {
    this.#runtime = runtime;
    this.#options = options;
  }

  /** How many shared containers exist or are being created. */
  get size(): number {
    return this.#entries.size;
  }

  async launch(ctx: SessionContext, container: ContainerConfig): Promise<PlacedProcess> {
    try {
      return await this.#launchOnce(ctx, container);
    } catch (error) {
      if (!(error instanceof CapsuleError && error.code === "CONTAINER_GONE")) throw error;
      // The container died under its holders (its shell was killed, or it was
      // removed by hand): it is gone for good, so start over in a new one.
      ctx.logger.warn("container.gone", { error: describeError(error) });
      return await this.#launchOnce(ctx, container);
    }
  }

  async #launchOnce(ctx: SessionContext, container: ContainerConfig): Promise<PlacedProcess> {
    if (this.#closed) throw shuttingDown();
    const holder = { connectionId: ctx.connectionId, username: ctx.identity.username };
    if (!this.#entries.has(keyOf(holder, container))) {
      // A container is to be made: the user sees the pull it may wait for.
      await this.#runtime.ensureImage(container.image, {
        policy: container.pull,
        onProgress: reportPullProgress(ctx),
      });
      if (ctx.signal.aborted) throw clientGone();
      if (this.#closed) throw shuttingDown();
    }
    const entry = this.#hold(holder, container, !ctx.signal.aborted);
    entry.sessions++;
    let running: RunningProcess;
    try {
      const id = await entry.ready;
      await this.#claimAgain(entry);
      if (ctx.signal.aborted) throw clientGone();
      running = await this.#runtime.exec(id, sessionExecSpec(ctx, container));
    } catch (error) {
      entry.sessions--;
      if (error instanceof CapsuleError && DEAD_CONTAINER.has(error.code)) {
        await this.#retire(entry);
      } else {
        this.#maybeRetire(entry);
      }
      throw error;
    }
    const log = ctx.logger.child({ container: running.containerId.slice(0, 12) });
    log.info("container.exec", { mode: entry.mode, tty: ctx.pty !== undefined });
    let released = false;
    return {
      process: running,
      expired: entry.lifetime.signal,
      end: () => void running.close().catch(() => {}),
      release: async () => {
        if (released) return;
        released = true;
        try {
          await running.close();
        } finally {
          entry.sessions--;
          this.#maybeRetire(entry);
        }
      },
    };
  }

  /**
   * The container of `connectionId` (`connection` mode) or of its user
   * (`persistent` mode), created if there is none, and held by the connection
   * until it closes: for what a connection forwards without a session of its
   * own in the container yet (`ssh -N -R ...`).
   *
   * @returns the container's id, once it runs
   */
  async holdForConnection(
    connectionId: string,
    username: string,
    container: ContainerConfig,
  ): Promise<string> {
    if (this.#closed) throw shuttingDown();
    const entry = this.#hold({ connectionId, username }, container, true);
    try {
      const id = await entry.ready;
      await this.#claimAgain(entry);
      return id;
    } catch (error) {
      entry.connections.delete(connectionId);
      throw error;
    }
  }

  /** Finds or creates the container of a connection or user; the connection holds it when `connected`. */
  #hold(holder: Holder, container: ContainerConfig, connected: boolean): Entry {
    const mode = container.mode === "persistent" ? "persistent" : "connection";
    const key = keyOf(holder, container);
    let entry = this.#entries.get(key);
    if (entry === undefined) {
      entry = this.#create(holder, container, key, mode);
      this.#entries.set(key, entry);
    }
    entry.grace?.();
    entry.grace = undefined;
    // A session of a connection that already closed must not hold the container for good.
    if (connected) entry.connections.add(holder.connectionId);
    return entry;
  }

  #create(
    holder: Holder,
    container: ContainerConfig,
    key: string,
    mode: Entry["mode"],
  ): Entry {
    const user = holder.username;
    const timer = lifetimeSignal(container.maxLifetime * 1000, lifetimeReason(container));
    const ended = new AbortController();
    const endWith = () => ended.abort(timer.signal.reason);
    timer.signal.addEventListener("abort", endWith, { once: true });
    const lifetime = {
      signal: ended.signal,
      cancel: () => {
        timer.cancel();
        timer.signal.removeEventListener("abort", endWith);
      },
    };
    const entry: Entry = {
      key,
      mode,
      user,
      ready: Promise.resolve(""),
      sessions: 0,
      connections: new Set(),
      graceMs: mode === "persistent" ? container.gracePeriod * 1000 : 0,
      grace: undefined,
      lifetime,
      name: containerName(this.#options.instance, key),
      claims: Promise.resolve(),
      released: false,
    };
    // Counted as live before the engine knows it, so no sweep can take it.
    this.#options.live.add(key);
    const labels = containerLabels(this.#options.instance, {
      mode,
      owner: key,
      user,
      ...(mode === "connection" ? { connection: holder.connectionId } : {}),
    }, container);
    entry.ready = (async () => {
      await this.#retiring.get(key);
      await this.#runtime.ensureImage(container.image, { policy: container.pull });
      const spec = hostContainerSpec(container, await entry.name, labels);
      const holds = mode === "persistent" ? this.#options.holds : undefined;
      // Another process of this instance may have made it, and may be
      // removing it: decide under the claims' lock.
      const { id, adopted } = holds
        ? await holds.locked(spec.name, (wanted) => this.#startOrAdopt(spec, key, wanted))
        : await this.#startOrAdopt(spec, key, false);
      this.#options.logger.info(adopted ? "container.adopt" : "container.start", {
        container: id.slice(0, 12),
        mode,
        user,
        image: container.image,
      });
      const alarm = this.#options.alarms?.signalFor(id);
      alarm?.addEventListener("abort", () => ended.abort(alarm.reason), { once: true });
      return id;
    })();
    // A failed creation is retried by the next session, not handed to it.
    entry.ready.catch(() => {
      if (this.#entries.get(key) === entry) this.#entries.delete(key);
      lifetime.cancel();
      if (!this.#entries.has(key)) this.#options.live.delete(key);
    });
    // At its maximum lifetime the container goes, with whoever is in it
    // (each session is told why); the next session gets a new one.
    lifetime.signal.addEventListener("abort", () => void this.#retire(entry), { once: true });
    return entry;
  }

  /**
   * Starts the container; when its name is taken, takes over the running
   * container of that name if `wanted` (another process of this instance
   * holds it, or its grace period runs), else removes it and starts afresh.
   */
  async #startOrAdopt(
    spec: ContainerSpec,
    key: string,
    wanted: boolean,
  ): Promise<{ id: string; adopted: boolean }> {
    try {
      return { id: await this.#runtime.start(spec), adopted: false };
    } catch (error) {
      if (!(error instanceof CapsuleError && error.code === "NAME_IN_USE")) throw error;
    }
    if (wanted) {
      const found = await this.#runtime.list({
        [LABELS.managed]: "true",
        [LABELS.instance]: this.#options.instance,
        [LABELS.owner]: key,
      });
      const running = found.find((c) => c.running !== false);
      if (running) return { id: running.id, adopted: true };
    }
    // Ours from before (a removal that failed, a crash, a grace that ran
    // out): the name is this instance's and this owner's alone.
    this.#options.logger.warn("container.name_in_use", { name: spec.name });
    await this.#runtime.remove(spec.name);
    return { id: await this.#runtime.start(spec), adopted: false };
  }

  /** A session comes back to a container this process had let go of: claim it again. */
  async #claimAgain(entry: Entry): Promise<void> {
    const holds = entry.mode === "persistent" ? this.#options.holds : undefined;
    if (!holds || !entry.released) return;
    entry.released = false;
    const name = await entry.name;
    entry.claims = entry.claims.then(() => holds.locked(name, () => Promise.resolve()));
    await entry.claims;
  }

  /** Called when an SSH connection closes: it no longer holds any container. */
  connectionClosed(connectionId: string): void {
    for (const entry of [...this.#entries.values()]) {
      if (entry.connections.delete(connectionId)) this.#maybeRetire(entry);
    }
  }

  /** Removes a container nobody holds: now, or after the grace period. */
  #maybeRetire(entry: Entry): void {
    if (entry.sessions > 0 || entry.connections.size > 0) return;
    if (this.#entries.get(entry.key) !== entry) return;
    if (entry.graceMs === 0) {
      void this.#retire(entry);
      return;
    }
    entry.grace?.();
    const holds = entry.mode === "persistent" ? this.#options.holds : undefined;
    if (!holds) {
      entry.grace = afterMs(entry.graceMs, () => void this.#retire(entry));
      return;
    }
    // Tell the other processes, then wait for the latest grace promised, or
    // leave the container to whoever promised a later one or holds it.
    let cancelled = false;
    entry.grace = () => (cancelled = true);
    entry.released = true;
    const released = entry.claims.then(async () =>
      (holds as SharedHolds).release(await entry.name, entry.graceMs)
    );
    entry.claims = released.catch(() => {});
    released.then(({ retireAt }) => {
      if (cancelled || this.#entries.get(entry.key) !== entry) return;
      if (retireAt === undefined) {
        this.#forget(entry);
        return;
      }
      entry.grace = afterMs(Math.max(0, retireAt - Date.now()), () => void this.#retire(entry));
    }, (error) => {
      this.#options.logger.warn("container.release_failed", { error: describeError(error) });
      if (!cancelled) entry.grace = afterMs(entry.graceMs, () => void this.#retire(entry));
    });
  }

  /** Lets go of a container another process of this instance holds or will remove. */
  #forget(entry: Entry): void {
    if (this.#entries.get(entry.key) !== entry) return;
    this.#entries.delete(entry.key);
    entry.lifetime.cancel();
    if (!this.#entries.has(entry.key)) this.#options.live.delete(entry.key);
    entry.ready.then(
      (id) =>
        this.#options.logger.child({ user: entry.user }).info("container.leave", {
          container: id.slice(0, 12),
          mode: entry.mode,
        }),
      () => {},
    );
  }

  #retire(entry: Entry): Promise<void> {
    if (this.#entries.get(entry.key) !== entry) {
      return this.#retiring.get(entry.key) ?? Promise.resolve();
    }
    this.#entries.delete(entry.key);
    const removal = this.#remove(entry).finally(() => {
      if (this.#retiring.get(entry.key) === removal) this.#retiring.delete(entry.key);
    });
    this.#retiring.set(entry.key, removal);
    return removal;
  }

  async #remove(entry: Entry): Promise<void> {
    entry.grace?.();
    entry.lifetime.cancel();
    const log = this.#options.logger.child({ user: entry.user });
    let id: string;
    try {
      id = await entry.ready;
    } catch {
      return; // never created; its sessions were told why
    }
    try {
      const holds = entry.mode === "persistent" ? this.#options.holds : undefined;
      await entry.claims;
      const removed = holds
        ? await holds.retire(await entry.name, () => this.#runtime.remove(id))
        : (await this.#runtime.remove(id), true);
      this.#options.alarms?.forget(id);
      log.info(removed ? "container.remove" : "container.leave", {
        container: id.slice(0, 12),
        mode: entry.mode,
      });
    } catch (error) {
      log.warn("container.remove_failed", { mode: entry.mode, error: describeError(error) });
    } finally {
      // Only after removal, so that no sweep races it; unless a new container took the key.
      if (!this.#entries.has(entry.key)) this.#options.live.delete(entry.key);
    }
  }

  /**
   * Resolves once this process holds no shared container and waits for no
   * grace period: each was removed, or left to another process of the
   * instance (a `serve --stdio` process waits for this after its connection).
   */
  async settled(): Promise<void> {
    while (this.#entries.size > 0 || this.#retiring.size > 0) {
      await Promise.all([...this.#retiring.values()]);
      await new Promise((resolve) => setTimeout(resolve, SETTLE_POLL_MS));
    }
  }

  /** Removes every shared container now, and refuses new sessions (shutdown). */
  async close(): Promise<void> {
    this.#closed = true;
    await Promise.all([...this.#entries.values()].map((entry) => this.#retire(entry)));
    await Promise.all(this.#retiring.values());
  }
}

/** How often {@linkcode SharedContainers.settled} looks again. */
const SETTLE_POLL_MS = 100;

/**
 * A container name that is the same for the same instance and owner, so that
 * a second creation fails on the engine instead of making a second container.
 */
export async function containerName(instance: string, key: string): Promise<string> {
  const digest = await crypto.subtle.digest(
    "SHA-256",
    new TextEncoder().encode(`${instance}\0${key}`),
  );
  const hex = Array.from(
    new Uint8Array(digest).slice(0, 10),
    (b) => b.toString(16).padStart(2, "0"),
  )
    .join("");
  return `capsule-${key.slice(0, key.indexOf(":"))}-${hex}`;
}

/** The key of the container a holder shares: its user's, or its connection's. */
function keyOf(holder: Holder, container: ContainerConfig): string {
  return container.mode === "persistent"
    ? `user:${holder.username}`
    : `connection:${holder.connectionId}`;
}
