import type { Logger } from "../log/mod.ts";
import type { NamedImage } from "./images_of.ts";
import type { ImagePuller } from "./image_puller.ts";

/** What a {@linkcode PrePuller} pulls, and how often it refreshes. */
export interface PrePullPlan {
  /** The images the config names (see `imagesOf`). */
  images: readonly NamedImage[];
  /** `docker.refreshInterval` in milliseconds; 0: no background refresh. */
  refreshIntervalMs: number;
}

/**
 * Pulls the images the config names in the background, one after another,
 * at start-up and after a reload, so that the first login finds its image
 * there: a missing `if-not-present` image is pulled, a `pull: always` image
 * is pulled and then refreshed every `refreshIntervalMs`; `never` images
 * are left alone. Failures are logged by the puller (`image.pull`) and
 * retried at the next reload, refresh or login.
 */
export class PrePuller {
  readonly #puller: ImagePuller;
  readonly #logger: Logger;
  #plan: PrePullPlan = { images: [], refreshIntervalMs: 0 };
  #timer: ReturnType<typeof setTimeout> | undefined;
  #round: Promise<void> = Promise.resolve();
  #stopped = false;

  /**
   * @param puller pulls (one pull per image, shared with logins)
   * @param options logger
   */
  constructor(puller: ImagePuller, options: { logger: Logger }) {
    this.#puller = puller;
    this.#logger = options.logger;
  }

  /** Takes a new plan and pulls what it names, in the background. */
  configure(plan: PrePullPlan): void {
    if (this.#stopped) return;
    this.#plan = plan;
    clearTimeout(this.#timer);
    this.#round = this.#round.then(() => this.#pullAll(false));
  }

  /** Resolves once the pulls started so far are over (for tests and shutdown). */
  settled(): Promise<void> {
    return this.#round;
  }

  /** No more pulls or refreshes; one under way runs to its end. */
  stop(): void {
    this.#stopped = true;
    clearTimeout(this.#timer);
  }

  async #pullAll(refresh: boolean): Promise<void> {
    const { images, refreshIntervalMs } = this.#plan;
    for (const { image, policy } of images) {
      if (this.#stopped) return;
      if (policy === "never" || (refresh && policy !== "always")) continue;
      try {
        if (refresh) await this.#puller.pull(image);
        else await this.#puller.ensureImage(image, { policy });
      } catch {
        // Logged by the puller; the next login or refresh tries again.
      }
    }
    if (this.#stopped || this.#plan.images !== images) return;
    if (refreshIntervalMs > 0 && images.some((i) => i.policy === "always")) {
      this.#timer = setTimeout(() => {
        this.#round = this.#round.then(() => this.#pullAll(true));
      }, refreshIntervalMs);
    }
    this.#logger.debug("image.prepull_done", { images: images.length });
  }
}
