/** Resident memory of a process, as `ps -o rss=` reports it. */
import { runProcess } from "./process.ts";
import { sleep } from "./sleep.ts";

/** RSS of `pid` in KiB (`ps -o rss= -p PID`); `undefined` when the process is gone. */
export async function rssKiB(pid: number): Promise<number | undefined> {
  const result = await runProcess("ps", ["-o", "rss=", "-p", String(pid)], { timeoutMs: 10_000 });
  const kib = Number(result.stdout.trim());
  return result.code === 0 && result.stdout.trim() !== "" && Number.isFinite(kib) ? kib : undefined;
}

/** Samples the RSS of a process every `intervalMs` until stopped; keeps the peak. */
export class RssSampler {
  readonly #pid: number;
  readonly #intervalMs: number;
  #peak = 0;
  #samples = 0;
  #running = true;
  readonly #loop: Promise<void>;

  constructor(pid: number, intervalMs = 100) {
    this.#pid = pid;
    this.#intervalMs = intervalMs;
    this.#loop = this.#run();
  }

  async #run(): Promise<void> {
    while (this.#running) {
      const kib = await rssKiB(this.#pid);
      if (kib !== undefined) {
        this.#peak = Math.max(this.#peak, kib);
        this.#samples++;
      }
      await sleep(this.#intervalMs);
    }
  }

  /** Stops sampling; resolves with the peak in KiB and the number of samples. */
  async stop(): Promise<{ peakKiB: number; samples: number }> {
    this.#running = false;
    await this.#loop;
    return { peakKiB: this.#peak, samples: this.#samples };
  }
}
