import { describeError } from "../errors/mod.ts";
import type { Logger } from "../log/mod.ts";
import { type ContainerRuntime, LABELS } from "../runtime/mod.ts";
import type { ContainerAlarms } from "../lifecycle/mod.ts";
import { formatBytes } from "./format_bytes.ts";

/** Options of {@linkcode DiskWatcher}. */
export interface DiskWatcherOptions {
  /** This server's instance label: only its containers are watched. */
  instance: string;
  /** Where a container over its limit is reported. */
  alarms: ContainerAlarms;
  logger: Logger;
  /** Least milliseconds between two checks (default 500). */
  intervalMs?: number;
}

/** Least time between two checks. */
const DEFAULT_INTERVAL_MS = 500;
/** A check may take at most this share of the time (the engine walks every writable layer). */
const BUSY_SHARE = 4;
/** How long `stop()` waits for a check in progress. */
const STOP_WAIT_MS = 2_000;

/**
 * `container.disk` for engines without storage quotas (overlay2 on ext4,
 * Docker's default): asks the engine twice a second (less often when the
 * engine takes long to answer) how much each of this server's containers
 * has written into its writable layer, and
 * raises the alarm of every container over the limit in its
 * `io.capsule.disk` label, which ends its sessions with a line saying why
 * and removes it. A session can write for up to one interval past the limit
 * before it is stopped (one file cannot: the runtime sets the `fsize` ulimit
 * to the limit); the engine's quota, where it has one, is exact.
 */
export class DiskWatcher {
  readonly #runtime: ContainerRuntime;
  readonly #options: DiskWatcherOptions;
  #timer: ReturnType<typeof setTimeout> | undefined;
  #running: Promise<void> | undefined;
  #stopped = true;
  /** Whether the last check failed (then the next failure is not logged again). */
  #failing = false;

  /**
   * @param runtime the engine
   * @param options instance, alarms, logger and interval
   */
  constructor(runtime: ContainerRuntime, options: DiskWatcherOptions) {
    this.#runtime = runtime;
    this.#options = options;
  }

  /** Starts checking; each check is scheduled after the previous one ends. */
  start(): void {
    this.#stopped = false;
    this.#schedule(this.#options.intervalMs ?? DEFAULT_INTERVAL_MS);
  }

  /** Whether it is checking. */
  get running(): boolean {
    return !this.#stopped;
  }

  /**
   * Stops checking, and waits a moment for a check in progress: an engine
   * that stopped answering must not hold a shutdown.
   */
  async stop(): Promise<void> {
    this.#stopped = true;
    clearTimeout(this.#timer);
    let timer: ReturnType<typeof setTimeout> | undefined;
    await Promise.race([this.#running, new Promise((r) => (timer = setTimeout(r, STOP_WAIT_MS)))]);
    clearTimeout(timer);
  }

  /** One pass over this server's containers. */
  async check(): Promise<void> {
    const containers = await this.#runtime.list(
      { [LABELS.managed]: "true", [LABELS.instance]: this.#options.instance },
      { size: true },
    );
    for (const container of containers) {
      const limit = Number(container.labels[LABELS.disk] ?? 0);
      const used = container.sizeRw ?? 0;
      if (!(limit > 0) || used <= limit || this.#options.alarms.raised(container.id)) continue;
      this.#options.logger.warn("container.disk_exceeded", {
        container: container.id.slice(0, 12),
        user: container.labels[LABELS.user] ?? "",
        used,
        limit,
      });
      this.#options.alarms.raise(
        container.id,
        `session ended: the container wrote more than its disk limit of ${formatBytes(limit)}`,
      );
    }
  }

  #schedule(delayMs: number): void {
    if (this.#stopped) return;
    this.#timer = setTimeout(() => {
      const started = Date.now();
      this.#running = this.check()
        .then(() => {
          if (this.#failing) this.#options.logger.info("disk_watch.resumed");
          this.#failing = false;
        }, (error) => {
          // Once per outage: an engine that is away would otherwise fill the log.
          if (!this.#failing) {
            this.#options.logger.warn("disk_watch.failed", { error: describeError(error) });
          }
          this.#failing = true;
        })
        .finally(() => {
          this.#running = undefined;
          const took = Date.now() - started;
          this.#schedule(
            Math.max(this.#options.intervalMs ?? DEFAULT_INTERVAL_MS, took * BUSY_SHARE),
          );
        });
    }, delayMs);
  }
}
