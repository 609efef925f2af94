import { describeError } from "../errors/mod.ts";
import type { PullPolicy } from "../config/types.ts";
import type { Logger } from "../log/mod.ts";
import type { ContainerRuntime } from "../runtime/mod.ts";
import { findTools, type ToolSet } from "../tools/mod.ts";

/** Options of {@linkcode ToolsInstaller}. */
export interface ToolsInstallerOptions {
  /** An image the engine has (or may pull), to fill the tools volume with. */
  image: string;
  /** Its pull policy (`container.pull`). */
  pull: PullPolicy;
  logger: Logger;
  /** Milliseconds before the first retry after a failure (doubles up to a minute). */
  retryMs?: number;
  /** Where the build is looked for; `findTools()` by default. */
  find?: () => Promise<ToolSet | undefined>;
}

const MAX_RETRY_MS = 60_000;

/**
 * Puts capsule's static tools (sftp-server, scp, rsync, socat) on the
 * engine at start-up. Without a build on this machine it says so once (SFTP
 * then works only in images with their own sftp-server); when the engine
 * is not ready, it retries in the background until it is.
 */
export class ToolsInstaller {
  readonly #runtime: ContainerRuntime;
  readonly #options: ToolsInstallerOptions;
  #timer: ReturnType<typeof setTimeout> | undefined;
  #stopped = false;
  #ready = false;

  /**
   * @param runtime the engine
   * @param options the image to fill the volume with, logger, retry delay
   */
  constructor(runtime: ContainerRuntime, options: ToolsInstallerOptions) {
    this.#runtime = runtime;
    this.#options = options;
  }

  /** One attempt now; on an engine error, retries later on its own. */
  async install(delayMs = this.#options.retryMs ?? 5_000): Promise<void> {
    const { logger, image } = this.#options;
    let tools;
    try {
      tools = await (this.#options.find ?? findTools)();
    } catch (error) {
      logger.warn("tools.incomplete", { error: describeError(error) });
      return;
    }
    if (!tools) {
      logger.warn("tools.missing", {
        hint: "build them with scripts/build-tools.sh; until then SFTP, scp -O and rsync " +
          "work only in images that have their own, and forwarding not at all",
      });
      return;
    }
    try {
      await this.#runtime.ensureImage(image, { policy: this.#options.pull });
      const volume = await this.#runtime.installTools(tools, image);
      this.#ready = true;
      logger.info("tools.ready", { volume, dir: tools.dir });
    } catch (error) {
      logger.warn("tools.install_failed", {
        error: describeError(error),
        retry_ms: delayMs,
      });
      if (this.#stopped) return;
      this.#timer = setTimeout(
        () => void this.install(Math.min(delayMs * 2, MAX_RETRY_MS)),
        delayMs,
      );
    }
  }

  /** Whether the tools are on the engine, ready to be mounted into containers. */
  get ready(): boolean {
    return this.#ready;
  }

  /** Stops retrying. */
  stop(): void {
    this.#stopped = true;
    clearTimeout(this.#timer);
  }
}
