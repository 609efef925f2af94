import { CapsuleError } from "../errors/mod.ts";
import type {
  ContainerRuntime,
  ContainerSpec,
  ContainerSummary,
  EnsureImageOptions,
  ExecSpec,
  PullImageOptions,
  RunningProcess,
} from "../runtime/mod.ts";
import { LABELS } from "../runtime/mod.ts";
import type { ToolSet } from "../tools/mod.ts";

/** A container younger than this may be missing from a listing that raced its creation. */
const RECONCILE_AFTER_MS = 30_000;

/**
 * A {@linkcode ContainerRuntime} that creates at most `max` containers at a
 * time (`limits.containers`): every container this server makes counts, in
 * every mode, the warm pool's included, from before its creation until its
 * removal. Over the cap, creation fails with one line for the user and
 * nothing reaches the engine.
 */
export class ContainerBudget implements ContainerRuntime {
  readonly #runtime: ContainerRuntime;
  #max: number;
  readonly #reconcileAfterMs: number;
  /** Slots taken by creations in flight. */
  #pending = 0;
  /** Containers created and not yet removed, with when they were. */
  readonly #held = new Map<string, number>();

  /**
   * @param runtime the engine
   * @param max containers at once; 0 for no cap
   * @param options `reconcileAfterMs`: how old a container must be before a
   *   listing without it frees its slot (default 30 s)
   */
  constructor(runtime: ContainerRuntime, max: number, options: { reconcileAfterMs?: number } = {}) {
    this.#runtime = runtime;
    this.#max = max;
    this.#reconcileAfterMs = options.reconcileAfterMs ?? RECONCILE_AFTER_MS;
  }

  /** Containers created or being created now. */
  get inUse(): number {
    return this.#pending + this.#held.size;
  }

  /** Changes the cap (a reload); containers over a lowered cap stay until they go. */
  set max(max: number) {
    this.#max = max;
  }

  ping(): Promise<void> {
    return this.#runtime.ping();
  }

  ensureImage(image: string, options: EnsureImageOptions): Promise<void> {
    return this.#runtime.ensureImage(image, options);
  }

  hasImage(image: string): Promise<boolean> {
    return this.#runtime.hasImage(image);
  }

  pullImage(image: string, options?: PullImageOptions): Promise<void> {
    return this.#runtime.pullImage(image, options);
  }

  run(spec: ContainerSpec): Promise<RunningProcess> {
    return this.#counted(() => this.#runtime.run(spec), (process) => process.containerId);
  }

  start(spec: ContainerSpec): Promise<string> {
    return this.#counted(() => this.#runtime.start(spec), (id) => id);
  }

  exec(containerId: string, spec: ExecSpec): Promise<RunningProcess> {
    return this.#runtime.exec(containerId, spec);
  }

  async remove(containerId: string): Promise<void> {
    await this.#runtime.remove(containerId);
    this.#held.delete(containerId);
  }

  async list(
    labels: Record<string, string>,
    options?: { size?: boolean },
  ): Promise<ContainerSummary[]> {
    const found = await this.#runtime.list(labels, options);
    // A listing of all of this server's containers (the sweep's, the disk
    // watch's) also frees the slots of containers that went without us: an
    // engine restart, `docker rm`, a removal that failed after all.
    const keys = Object.keys(labels);
    if (keys.length === 2 && labels[LABELS.managed] === "true" && LABELS.instance in labels) {
      const there = new Set(found.map((c) => c.id));
      const settled = Date.now() - this.#reconcileAfterMs;
      for (const [id, since] of this.#held) {
        if (!there.has(id) && since <= settled) this.#held.delete(id);
      }
    }
    return found;
  }

  enableDiskQuota(image: string): Promise<boolean> {
    return this.#runtime.enableDiskQuota(image);
  }

  installTools(tools: ToolSet, image: string): Promise<string> {
    return this.#runtime.installTools(tools, image);
  }

  async #counted<T>(create: () => Promise<T>, idOf: (created: T) => string): Promise<T> {
    if (this.#max > 0 && this.inUse >= this.#max) {
      throw new CapsuleError(
        "CONTAINER_CAP_REACHED",
        `Cannot start a container: the server is at its limit of ${this.#max} containers`,
        { cause: new Error(`limits.containers = ${this.#max} reached`) },
      );
    }
    this.#pending++;
    try {
      const created = await create();
      this.#held.set(idOf(created), Date.now());
      return created;
    } finally {
      this.#pending--;
    }
  }
}
