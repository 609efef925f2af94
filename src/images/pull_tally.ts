import type { PullEvent } from "../runtime/mod.ts";

/** One layer as the engine reported it. */
interface Layer {
  current: number;
  total: number;
}

/**
 * Adds up a pull's layers into one figure for the user: bytes downloaded of
 * the bytes announced. A layer counts once its size is known (its first
 * `Downloading`); `Download complete` counts it in full. Layers the engine
 * has already (`Already exists`) count for nothing.
 */
export class PullTally {
  readonly #layers = new Map<string, Layer>();

  /** Takes one event of the engine into account. */
  add(event: PullEvent): void {
    const layer = this.#layers.get(event.layer);
    if (event.status === "Downloading" && event.total !== undefined && event.total > 0) {
      const current = Math.min(event.current ?? 0, event.total);
      if (layer === undefined) this.#layers.set(event.layer, { current, total: event.total });
      else {
        layer.total = event.total;
        layer.current = Math.max(layer.current, current);
      }
    } else if (
      layer !== undefined &&
      (event.status === "Download complete" || event.status === "Verifying Checksum" ||
        event.status === "Pull complete" || event.status === "Extracting")
    ) {
      layer.current = layer.total;
    }
  }

  /** Bytes downloaded so far. */
  get current(): number {
    let sum = 0;
    for (const layer of this.#layers.values()) sum += layer.current;
    return sum;
  }

  /** Bytes of the layers whose size is known. */
  get total(): number {
    let sum = 0;
    for (const layer of this.#layers.values()) sum += layer.total;
    return sum;
  }
}
