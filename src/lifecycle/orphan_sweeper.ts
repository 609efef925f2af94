import { describeError } from "../errors/mod.ts";
import type { Logger } from "../log/mod.ts";
import { type ContainerRuntime, LABELS } from "../runtime/mod.ts";

/** Options of {@linkcode OrphanSweeper}. */
export interface OrphanSweeperOptions {
  /** This server's instance label value; other instances' containers are never touched. */
  instance: string;
  /**
   * Whether an owner id (a container's `io.capsule.owner` label: a session id,
   * `connection:<id>`, `user:<name>` or `pool:<id>`) is still in use, by this
   * process or, as the container's other labels may tell, by another one.
   */
  isLive(owner: string, labels: Readonly<Record<string, string>>): boolean | Promise<boolean>;
  logger: Logger;
  /** Milliseconds between sweeps. */
  intervalMs: number;
}

/**
 * A live container past its maximum lifetime by this much is removed even so:
 * its owner should have removed it on time.
 */
const EXPIRY_MARGIN_MS = 30_000;

/**
 * Removes this instance's containers that nothing live owns: all of them at
 * start-up (left by a crash or `kill -9`), and periodically any that a failed
 * removal left behind, and any past its maximum lifetime.
 */
export class OrphanSweeper {
  readonly #runtime: ContainerRuntime;
  readonly #options: OrphanSweeperOptions;
  #timer: ReturnType<typeof setInterval> | undefined;
  #running: Promise<number> | undefined;

  /** @param runtime the engine to sweep */
  constructor(runtime: ContainerRuntime, options: OrphanSweeperOptions) {
    this.#runtime = runtime;
    this.#options = options;
  }

  /**
   * Sweeps once; concurrent calls share one sweep.
   *
   * @returns how many containers were removed
   */
  sweep(): Promise<number> {
    this.#running ??= this.#sweep().finally(() => (this.#running = undefined));
    return this.#running;
  }

  async #sweep(): Promise<number> {
    const { instance, isLive, logger } = this.#options;
    let found;
    try {
      found = await this.#runtime.list({ [LABELS.managed]: "true", [LABELS.instance]: instance });
    } catch (error) {
      logger.warn("sweep.failed", { error: describeError(error) });
      return 0;
    }
    let removed = 0;
    const now = Date.now();
    for (const container of found) {
      const owner = container.labels[LABELS.owner] ?? container.labels[LABELS.session] ?? "";
      const expires = Number(container.labels[LABELS.expires] ?? Infinity);
      if (expires + EXPIRY_MARGIN_MS >= now || Number.isNaN(expires)) {
        let live: boolean;
        try {
          live = await isLive(owner, container.labels);
        } catch (error) {
          logger.warn("sweep.judge_failed", {
            container: container.id.slice(0, 12),
            error: describeError(error),
          });
          continue; // when in doubt, keep it
        }
        if (live) continue;
      }
      try {
        await this.#runtime.remove(container.id);
        removed++;
        logger.info("sweep.removed", {
          container: container.id.slice(0, 12),
          owner,
          user: container.labels[LABELS.user] ?? "",
        });
      } catch (error) {
        logger.warn("sweep.remove_failed", {
          container: container.id.slice(0, 12),
          error: describeError(error),
        });
      }
    }
    return removed;
  }

  /** Sweeps every `intervalMs` until {@linkcode stop}. */
  start(): void {
    this.#timer ??= setInterval(() => void this.sweep(), this.#options.intervalMs);
  }

  /** Stops the periodic sweep and waits for one in progress. */
  async stop(): Promise<void> {
    clearInterval(this.#timer);
    this.#timer = undefined;
    await this.#running;
  }
}
