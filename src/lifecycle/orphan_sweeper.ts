import { describeError } from "../errors/mod.ts";
import type { Logger } from "../log/mod.ts";
import { type ContainerRuntime, LABELS } from "../runtime/mod.ts";

/** Options of {@linkcode OrphanSweeper}. */
export interface OrphanSweeperOptions {
  /** This server's instance label value; other instances' containers are never touched. */
  instance: string;
  /** Whether a session id belongs to a session that is still running. */
  isLive(sessionId: string): boolean;
  logger: Logger;
  /** Milliseconds between sweeps. */
  intervalMs: number;
}

/**
 * Removes this instance's containers that no live session owns: all of them
 * at start-up (left by a crash or `kill -9`), and periodically any that a
 * failed removal left behind.
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
    for (const container of found) {
      const session = container.labels[LABELS.session] ?? "";
      if (isLive(session)) continue;
      try {
        await this.#runtime.remove(container.id);
        removed++;
        logger.info("sweep.removed", {
          container: container.id.slice(0, 12),
          session,
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
