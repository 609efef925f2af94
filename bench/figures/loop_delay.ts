/**
 * capsule's event-loop delay during a figure, from the
 * `capsule_event_loop_delay_seconds` histogram of its /metrics (a 100 ms
 * probe timer, how late it fired), scraped before and after.
 */
import type { LogRecord } from "../capsule_server.ts";
import type { LoopDelay } from "../results.ts";

/** Cumulative bucket counts by upper bound (seconds; `Infinity` for +Inf). */
export type DelayBuckets = Map<number, number>;

const NAME = "capsule_event_loop_delay_seconds_bucket";

/** The URL of capsule's /metrics, from its `metrics.listening` log record. */
export function metricsUrl(logs: readonly LogRecord[]): string | undefined {
  const record = logs.find((r) => r.event === "metrics.listening");
  return typeof record?.port === "number" ? `http://127.0.0.1:${record.port}/metrics` : undefined;
}

/** The delay histogram's buckets now; `undefined` if /metrics does not answer. */
export async function scrapeDelay(url: string): Promise<DelayBuckets | undefined> {
  try {
    const response = await fetch(url, { signal: AbortSignal.timeout(5_000) });
    if (!response.ok) {
      await response.body?.cancel();
      return undefined;
    }
    const buckets: DelayBuckets = new Map();
    for (const line of (await response.text()).split("\n")) {
      const match = line.match(/^(\w+)\{le="([^"]+)"\} (\d+)$/);
      if (!match || match[1] !== NAME) continue;
      buckets.set(match[2] === "+Inf" ? Infinity : Number(match[2]), Number(match[3]));
    }
    return buckets.size > 0 ? buckets : undefined;
  } catch {
    return undefined;
  }
}

/**
 * What the probes between two scrapes saw: their number, how many were over
 * 10 ms late, and the bucket bounds under which half, 99% and all of them
 * fell (so "≤ 25 ms" means between the next smaller bound and 25 ms).
 */
export function delayBetween(before: DelayBuckets, after: DelayBuckets): LoopDelay {
  const bounds = [...after.keys()].sort((a, b) => a - b);
  const counts = bounds.map((b) => (after.get(b) ?? 0) - (before.get(b) ?? 0));
  const probes = counts.at(-1) ?? 0;
  const under = (share: number) => {
    const i = counts.findIndex((c) => c >= Math.ceil(share * probes));
    return i < 0 ? Infinity : bounds[i]! * 1000;
  };
  const atTen = bounds.indexOf(0.01);
  return {
    probes,
    over10ms: atTen < 0 ? 0 : probes - counts[atTen]!,
    p50BoundMs: probes > 0 ? under(0.5) : 0,
    p99BoundMs: probes > 0 ? under(0.99) : 0,
    maxBoundMs: probes > 0 ? under(1) : 0,
  };
}
