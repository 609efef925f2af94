/** Order statistics of timing samples. */

/** Median, p95 and friends of a set of samples. */
export interface Summary {
  n: number;
  median: number;
  p95: number;
  min: number;
  max: number;
}

/**
 * The `p`-th percentile (0-100) of ascending `sorted` values, interpolating
 * linearly between the two nearest ranks (the usual "type 7" definition).
 */
export function percentile(sorted: readonly number[], p: number): number {
  if (sorted.length === 0) return Number.NaN;
  const rank = (p / 100) * (sorted.length - 1);
  const low = Math.floor(rank);
  const high = Math.ceil(rank);
  const a = sorted[low]!;
  const b = sorted[high]!;
  return a + (b - a) * (rank - low);
}

/** Summarizes samples; `undefined` when there are none. */
export function summarize(samples: readonly number[]): Summary | undefined {
  if (samples.length === 0) return undefined;
  const sorted = [...samples].sort((x, y) => x - y);
  return {
    n: sorted.length,
    median: percentile(sorted, 50),
    p95: percentile(sorted, 95),
    min: sorted[0]!,
    max: sorted[sorted.length - 1]!,
  };
}

/** The median of samples, `undefined` when there are none. */
export function median(samples: readonly number[]): number | undefined {
  return summarize(samples)?.median;
}
