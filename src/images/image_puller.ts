import { type RegistryConfig, registryOf } from "../config/mod.ts";
import { CapsuleError, describeError } from "../errors/mod.ts";
import type { Logger } from "../log/mod.ts";
import type {
  ContainerRuntime,
  ContainerSpec,
  ContainerSummary,
  EnsureImageOptions,
  ExecSpec,
  PullImageOptions,
  PullProgress,
  RunningProcess,
} from "../runtime/mod.ts";
import type { ToolSet } from "../tools/mod.ts";
import { PullTally } from "./pull_tally.ts";
import { registryAuthFor, secretsOf } from "./registry_auth_for.ts";

/** The settings of an {@linkcode ImagePuller} that a reload may change. */
export interface ImagePullerSettings {
  /** `docker.registries`, passwords read. */
  registries: Readonly<Record<string, RegistryConfig>>;
  /** `docker.refreshInterval` in milliseconds: how long a `pull: always` image stays fresh. */
  refreshIntervalMs: number;
}

/** Options of {@linkcode ImagePuller}. */
export interface ImagePullerOptions extends ImagePullerSettings {
  logger: Logger;
}

/** A pull under way, shared by everyone who needs its image. */
interface Flight {
  done: Promise<void>;
  progress: PullProgress;
  readonly listeners: Set<(progress: PullProgress) => void>;
}

/**
 * A {@linkcode ContainerRuntime} whose `ensureImage` pulls each image once
 * however many want it: callers who need an image while it is being pulled
 * wait for that same pull and each hear its progress; a failed pull fails
 * them all, and the next call tries again. Pulls carry the credentials of
 * the image's own registry, and are logged (`image.pull`: start, then done or
 * failed, with bytes and duration) without them. A `pull: always` image is
 * pulled again only once `refreshIntervalMs` has passed since its last pull.
 */
export class ImagePuller implements ContainerRuntime {
  readonly #inner: ContainerRuntime;
  readonly #logger: Logger;
  #settings: ImagePullerSettings;
  #secrets: string[];
  readonly #flights = new Map<string, Flight>();
  /** When each image was last pulled, `performance.now()` milliseconds. */
  readonly #pulledAt = new Map<string, number>();

  /**
   * @param inner the runtime that talks to the engine
   * @param options credentials, refresh interval, logger
   */
  constructor(inner: ContainerRuntime, options: ImagePullerOptions) {
    this.#inner = inner;
    this.#logger = options.logger;
    this.#settings = options;
    this.#secrets = secretsOf(options.registries);
  }

  /** Takes new credentials and refresh interval (a reload); pulls under way keep theirs. */
  configure(settings: ImagePullerSettings): void {
    this.#settings = settings;
    this.#secrets = secretsOf(settings.registries);
  }

  /** Whether `image` is being pulled now. */
  pulling(image: string): boolean {
    return this.#flights.has(image);
  }

  async ensureImage(image: string, options: EnsureImageOptions): Promise<void> {
    const { policy } = options;
    if (policy === "never") {
      if (await this.#inner.hasImage(image)) return;
      throw new CapsuleError(
        "IMAGE_NOT_FOUND",
        `Cannot start a container: image "${image}" is not present and pulling is disabled`,
      );
    }
    // An image that is there is enough, unless it is due for a refresh: a
    // refresh under way (of an image that is there) holds up no one.
    const enough = policy === "if-not-present" || this.#fresh(image);
    if (enough && await this.#inner.hasImage(image)) return;
    try {
      await this.pull(image, options.onProgress);
    } catch (error) {
      // A refresh that failed leaves the image that was there: not fatal.
      if (policy === "always" && await this.#inner.hasImage(image)) return;
      throw error;
    }
  }

  /**
   * Pulls `image` now, or joins the pull of it under way.
   *
   * @param onProgress hears the pull's progress (at once, then as it goes)
   */
  async pull(image: string, onProgress?: (progress: PullProgress) => void): Promise<void> {
    const flight = this.#flights.get(image) ?? this.#start(image);
    if (onProgress === undefined) return await flight.done;
    flight.listeners.add(onProgress);
    onProgress({ ...flight.progress });
    try {
      await flight.done;
    } finally {
      flight.listeners.delete(onProgress);
    }
  }

  #fresh(image: string): boolean {
    const at = this.#pulledAt.get(image);
    const interval = this.#settings.refreshIntervalMs;
    return interval > 0 && at !== undefined && performance.now() - at < interval;
  }

  #start(image: string): Flight {
    const auth = registryAuthFor(this.#settings.registries, image);
    const secrets = this.#secrets;
    const tally = new PullTally();
    const listeners = new Set<(progress: PullProgress) => void>();
    const started = performance.now();
    const fields = { image, registry: registryOf(image), auth: auth !== undefined };
    this.#logger.info("image.pull", { ...fields, state: "start" });
    const flight: Flight = {
      done: Promise.resolve(),
      progress: { image, state: "pulling", current: 0, total: 0 },
      listeners,
    };
    const tell = (state: PullProgress["state"]) => {
      flight.progress = { image, state, current: tally.current, total: tally.total };
      for (const listener of listeners) listener({ ...flight.progress });
    };
    const work = this.#inner.pullImage(image, {
      ...(auth ? { auth } : {}),
      onEvent: (event) => {
        tally.add(event);
        tell("pulling");
      },
    });
    flight.done = work.then(
      () => {
        this.#pulledAt.set(image, performance.now());
        this.#logger.info("image.pull", {
          ...fields,
          state: "done",
          bytes: tally.total,
          duration_ms: Math.round(performance.now() - started),
        });
        tell("done");
      },
      (error: unknown) => {
        this.#logger.warn("image.pull", {
          ...fields,
          state: "failed",
          ...(error instanceof CapsuleError ? { code: error.code } : {}),
          error: scrub(describeError(error), secrets),
          bytes: tally.current,
          duration_ms: Math.round(performance.now() - started),
        });
        tell("failed");
        throw error;
      },
    ).finally(() => this.#flights.delete(image));
    // Nobody may be waiting (a pre-pull): the failure is logged above.
    flight.done.catch(() => {});
    this.#flights.set(image, flight);
    return flight;
  }

  // The rest goes straight to the engine.

  ping(): Promise<void> {
    return this.#inner.ping();
  }

  hasImage(image: string): Promise<boolean> {
    return this.#inner.hasImage(image);
  }

  pullImage(image: string, options?: PullImageOptions): Promise<void> {
    return this.#inner.pullImage(image, options);
  }

  run(spec: ContainerSpec): Promise<RunningProcess> {
    return this.#inner.run(spec);
  }

  start(spec: ContainerSpec): Promise<string> {
    return this.#inner.start(spec);
  }

  exec(containerId: string, spec: ExecSpec): Promise<RunningProcess> {
    return this.#inner.exec(containerId, spec);
  }

  remove(containerId: string): Promise<void> {
    return this.#inner.remove(containerId);
  }

  list(labels: Record<string, string>, options?: { size?: boolean }): Promise<ContainerSummary[]> {
    return this.#inner.list(labels, options);
  }

  enableDiskQuota(image: string): Promise<boolean> {
    return this.#inner.enableDiskQuota(image);
  }

  installTools(tools: ToolSet, image: string): Promise<string> {
    return this.#inner.installTools(tools, image);
  }
}

/** `text` with every secret cut out: the engine's words go to the log, credentials never. */
function scrub(text: string, secrets: readonly string[]): string {
  let clean = text;
  for (const secret of secrets) clean = clean.replaceAll(secret, "[redacted]");
  return clean;
}
