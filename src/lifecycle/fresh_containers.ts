import type { ContainerConfig } from "../config/types.ts";
import type { ContainerRuntime } from "../runtime/mod.ts";
import {
  type PlacedProcess,
  type Placement,
  reportPullProgress,
  type SessionContext,
} from "../session/mod.ts";
import { sessionContainerSpec } from "./_container_spec.ts";
import { clientGone } from "./_placement_errors.ts";
import { lifetimeLeftMs } from "./_lifetime_signal.ts";
import { ownerLiveUntilReleased, removedAfter } from "./_removed_after.ts";
import type { ContainerAlarms } from "./container_alarms.ts";

/**
 * `session` mode: a fresh container for every session, whose own process is
 * the session's, removed when the session ends.
 */
export class FreshContainers implements Placement {
  readonly #runtime: ContainerRuntime;
  readonly #instance: string;
  readonly #live: Set<string>;
  readonly #alarms: ContainerAlarms | undefined;

  /**
   * @param runtime the engine
   * @param instance value of the instance label
   * @param live owner ids in use: each session's id is in it from before its
   *   container is created until after it is removed, so no sweep takes it
   * @param alarms raised for a container over a limit: its session ends
   */
  constructor(
    runtime: ContainerRuntime,
    instance: string,
    live: Set<string>,
    alarms?: ContainerAlarms,
  ) {
    this.#runtime = runtime;
    this.#instance = instance;
    this.#live = live;
    this.#alarms = alarms;
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
    await this.#runtime.ensureImage(spec.image, {
      policy: container.pull,
      onProgress: reportPullProgress(ctx),
    });
    if (ctx.signal.aborted) throw clientGone();
    const process = await this.#runtime.run(spec);
    ctx.logger.info("container.start", {
      container: process.containerId.slice(0, 12),
      mode: "session",
      image: spec.image,
      tty: spec.tty,
    });
    // The lifetime runs from the moment the expiry label was written.
    const lifetimeMs = lifetimeLeftMs(container, createdMs);
    return removedAfter(this.#runtime, ctx, {
      process,
      container,
      lifetimeMs,
      ...(this.#alarms ? { alarms: this.#alarms } : {}),
    });
  }
}
