import type { ContainerConfig } from "../config/types.ts";
import { CapsuleError } from "../errors/mod.ts";
import type { ContainerRuntime, RunningProcess } from "../runtime/mod.ts";
import {
  lifetimeReason,
  lifetimeSignal,
  type PlacedProcess,
  type Placement,
  sessionContainerSpec,
  type SessionContext,
} from "../session/mod.ts";

/** A session gone before its container was created: nothing to run. */
export function clientGone(): CapsuleError {
  return new CapsuleError("CLIENT_GONE", "Session closed before it started", { exitCode: 255 });
}

/** A session that would start while the server shuts down. */
export function shuttingDown(): CapsuleError {
  return new CapsuleError("SHUTTING_DOWN", "Cannot start session: the server is shutting down");
}

/**
 * `session` mode: a fresh container for every session, whose own process is
 * the session's, removed when the session ends.
 */
export class FreshContainers implements Placement {
  readonly #runtime: ContainerRuntime;
  readonly #instance: string;
  readonly #live: Set<string>;

  /**
   * @param runtime the engine
   * @param instance value of the instance label
   * @param live owner ids in use: each session's id is in it from before its
   *   container is created until after it is removed, so no sweep takes it
   */
  constructor(runtime: ContainerRuntime, instance: string, live: Set<string>) {
    this.#runtime = runtime;
    this.#instance = instance;
    this.#live = live;
  }

  async launch(ctx: SessionContext, container: ContainerConfig): Promise<PlacedProcess> {
    this.#live.add(ctx.id);
    let placed: PlacedProcess;
    try {
      placed = await this.#launch(ctx, container);
    } catch (error) {
      this.#live.delete(ctx.id);
      throw error;
    }
    return ownerLiveUntilReleased(placed, this.#live, ctx.id);
  }

  async #launch(ctx: SessionContext, container: ContainerConfig): Promise<PlacedProcess> {
    const createdMs = Date.now();
    const spec = sessionContainerSpec(ctx, container, this.#instance, createdMs);
    await this.#runtime.ensureImage(spec.image, { policy: container.pull });
    if (ctx.signal.aborted) throw clientGone();
    const process = await this.#runtime.run(spec);
    ctx.logger.info("container.start", {
      container: process.containerId.slice(0, 12),
      mode: "session",
      image: spec.image,
      tty: spec.tty,
    });
    // The lifetime runs from the moment the expiry label was written.
    const lifetimeMs = container.maxLifetime > 0
      ? Math.max(1, container.maxLifetime * 1000 - (Date.now() - createdMs))
      : 0;
    return removedAfter(this.#runtime, ctx, process, container, lifetimeMs);
  }
}

/** `placed`, with `owner` taken out of `live` only once its release has finished. */
export function ownerLiveUntilReleased(
  placed: PlacedProcess,
  live: Set<string>,
  owner: string,
): PlacedProcess {
  return {
    ...placed,
    release: async () => {
      try {
        await placed.release();
      } finally {
        live.delete(owner);
      }
    },
  };
}

/**
 * A placed process whose container is the session's alone: ending the
 * session removes it, and so does its lifetime (`lifetimeMs` left; 0 for
 * none) running out.
 */
export function removedAfter(
  runtime: ContainerRuntime,
  ctx: SessionContext,
  process: RunningProcess,
  container: ContainerConfig,
  lifetimeMs: number,
): PlacedProcess {
  const log = ctx.logger.child({ container: process.containerId.slice(0, 12) });
  let removing: Promise<void> | undefined;
  const remove = () => (removing ??= runtime.remove(process.containerId));
  const lifetime = lifetimeSignal(lifetimeMs, lifetimeReason(container));
  return {
    process,
    expired: lifetime.signal,
    end: () => void remove().catch(() => {}),
    async release() {
      lifetime.cancel();
      await process.close({ containerGoing: true });
      await remove();
      log.info("container.remove");
    },
  };
}
