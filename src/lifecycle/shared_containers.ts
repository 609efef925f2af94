import type { ContainerConfig } from "../config/types.ts";
import { CapsuleError, type CapsuleErrorCode, describeError } from "../errors/mod.ts";
import type { Logger } from "../log/mod.ts";
import type { ContainerRuntime, RunningProcess } from "../runtime/mod.ts";
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
      return await entry.ready;
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
      const spec = hostContainerSpec(
        container,
        await containerName(this.#options.instance, key),
        labels,
      );
      let id: string;
      try {
        id = await this.#runtime.start(spec);
      } catch (error) {
        if (!(error instanceof CapsuleError && error.code === "NAME_IN_USE")) throw error;
        // Ours from before (a removal that failed, or a crash before the
        // sweep): the name is this instance's and this owner's alone.
        this.#options.logger.warn("container.name_in_use", { name: spec.name });
        await this.#runtime.remove(spec.name);
        id = await this.#runtime.start(spec);
      }
      this.#options.logger.info("container.start", {
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
    entry.grace = afterMs(entry.graceMs, () => void this.#retire(entry));
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
      await this.#runtime.remove(id);
      this.#options.alarms?.forget(id);
      log.info("container.remove", { container: id.slice(0, 12), mode: entry.mode });
    } catch (error) {
      log.warn("container.remove_failed", { mode: entry.mode, error: describeError(error) });
    } finally {
      // Only after removal, so that no sweep races it; unless a new container took the key.
      if (!this.#entries.has(entry.key)) this.#options.live.delete(entry.key);
    }
  }

  /** Removes every shared container now, and refuses new sessions (shutdown). */
  async close(): Promise<void> {
    this.#closed = true;
    await Promise.all([...this.#entries.values()].map((entry) => this.#retire(entry)));
    await Promise.all(this.#retiring.values());
  }
}

/**
 * A container name that is the same for the same instance and owner, so that
 * a second creation fails on the engine instead of making a second container.
 */
async function containerName(instance: string, key: string): Promise<string> {
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
