import { CapsuleError } from "../errors/mod.ts";
import {
  type ContainerRuntime,
  type ContainerSpec,
  type ContainerSummary,
  type EnsureImageOptions,
  type ExecSpec,
  LABELS,
  type PullImageOptions,
  type RunningProcess,
} from "../runtime/mod.ts";
import type { ToolSet } from "../tools/mod.ts";
import type { AuditRecorder } from "./audit_event.ts";

/** Options of {@linkcode AuditedRuntime}. */
export interface AuditedRuntimeOptions {
  recorder: AuditRecorder;
  /** Called when the engine fails an operation (for the metrics), with the operation's name. */
  onEngineError?: (operation: string) => void;
}

/** What an {@linkcode AuditedRuntime} knows of a container it created. */
interface Known {
  /** `session`, `connection`, `persistent` or `pool` (the mode label). */
  placement: string;
  /** A pool container no session has been exec'd into yet. */
  warm: boolean;
}

/**
 * A {@linkcode ContainerRuntime} that audits the containers it creates
 * (`container.create`, with the time the engine took to start it) and
 * removes (`container.remove`), keeps count of them (running, and warm ones
 * of the pool), and reports the engine's failures.
 */
export class AuditedRuntime implements ContainerRuntime {
  readonly #inner: ContainerRuntime;
  readonly #options: AuditedRuntimeOptions;
  readonly #containers = new Map<string, Known>();

  /**
   * @param inner the runtime that does the work
   * @param options where events and engine errors go
   */
  constructor(inner: ContainerRuntime, options: AuditedRuntimeOptions) {
    this.#inner = inner;
    this.#options = options;
  }

  /** Containers this server created that are not removed yet, and how many of them wait in the pool. */
  counts(): { running: number; warm: number } {
    let warm = 0;
    for (const known of this.#containers.values()) if (known.warm) warm++;
    return { running: this.#containers.size, warm };
  }

  /** The placement (mode label) of a container this server created. */
  placementOf(containerId: string): string | undefined {
    return this.#containers.get(containerId)?.placement;
  }

  ping(): Promise<void> {
    return this.#watch("ping", this.#inner.ping());
  }

  ensureImage(image: string, options: EnsureImageOptions): Promise<void> {
    return this.#watch("ensure_image", this.#inner.ensureImage(image, options));
  }

  hasImage(image: string): Promise<boolean> {
    return this.#watch("inspect_image", this.#inner.hasImage(image));
  }

  pullImage(image: string, options?: PullImageOptions): Promise<void> {
    return this.#watch("pull_image", this.#inner.pullImage(image, options));
  }

  async run(spec: ContainerSpec): Promise<RunningProcess> {
    const started = performance.now();
    const process = await this.#watch("run", this.#inner.run(spec));
    this.#created(process.containerId, spec, started);
    return process;
  }

  async start(spec: ContainerSpec): Promise<string> {
    const started = performance.now();
    const id = await this.#watch("start", this.#inner.start(spec));
    this.#created(id, spec, started);
    return id;
  }

  exec(containerId: string, spec: ExecSpec): Promise<RunningProcess> {
    const known = this.#containers.get(containerId);
    if (known) known.warm = false;
    return this.#watch("exec", this.#inner.exec(containerId, spec));
  }

  async remove(containerId: string): Promise<void> {
    await this.#watch("remove", this.#inner.remove(containerId));
    const known = this.#containers.get(containerId);
    this.#containers.delete(containerId);
    this.#options.recorder.record("container.remove", {
      container: containerId.slice(0, 12),
      ...(known ? { placement: known.placement } : {}),
    });
  }

  list(labels: Record<string, string>, options?: { size?: boolean }): Promise<ContainerSummary[]> {
    return this.#watch("list", this.#inner.list(labels, options));
  }

  enableDiskQuota(image: string): Promise<boolean> {
    return this.#watch("disk_quota", this.#inner.enableDiskQuota(image));
  }

  installTools(tools: ToolSet, image: string): Promise<string> {
    return this.#watch("install_tools", this.#inner.installTools(tools, image));
  }

  #created(id: string, spec: ContainerSpec, started: number): void {
    const placement = spec.labels[LABELS.mode] ?? "unknown";
    this.#containers.set(id, { placement, warm: placement === "pool" });
    const connection = spec.labels[LABELS.connection];
    const user = spec.labels[LABELS.user];
    const session = spec.labels[LABELS.session];
    this.#options.recorder.record("container.create", {
      ...(connection ? { connection } : {}),
      ...(user ? { user } : {}),
      ...(session ? { session } : {}),
      container: id.slice(0, 12),
      placement,
      image: spec.image,
      start_ms: Math.round(performance.now() - started),
    });
  }

  async #watch<T>(operation: string, work: Promise<T>): Promise<T> {
    try {
      return await work;
    } catch (error) {
      // What the user did (a missing shell, say) is no failure of the engine.
      if (
        !(error instanceof CapsuleError) || error.code.startsWith("ENGINE_") ||
        error.code === "CONTAINER_CREATE_FAILED" || error.code === "CONTAINER_START_FAILED"
      ) {
        this.#options.onEngineError?.(operation);
      }
      throw error;
    }
  }
}
