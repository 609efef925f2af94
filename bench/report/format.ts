/** Number formats of the report. */
import type { ThroughputRun } from "../results.ts";
import { summarize, type Summary } from "../stats.ts";

const MIB = 2 ** 20;

/** Milliseconds: `262 ms`, or seconds from 10 s: `12.3 s`. */
export function ms(value: number | undefined): string {
  if (value === undefined || Number.isNaN(value)) return "–";
  return value >= 10_000 ? `${(value / 1000).toFixed(1)} s` : `${Math.round(value)} ms`;
}

/** A ratio: `1.02×`. */
export function times(value: number | undefined): string {
  return value === undefined || !Number.isFinite(value) ? "–" : `${value.toFixed(2)}×`;
}

/** KiB as MiB: `81.2 MiB`. */
export function mib(kib: number | undefined): string {
  return kib === undefined ? "–" : `${(kib / 1024).toFixed(1)} MiB`;
}

/** MiB/s of one transfer. */
export function rate(run: ThroughputRun): number {
  return run.bytes / MIB / (run.ms / 1000);
}

/** Summary of the MiB/s of the successful transfers. */
export function rates(runs: readonly ThroughputRun[] | undefined): Summary | undefined {
  return summarize((runs ?? []).filter((r) => r.ok).map(rate));
}

/** `a / b`, or `undefined` when either is missing. */
export function ratio(a: number | undefined, b: number | undefined): number | undefined {
  return a === undefined || b === undefined || b === 0 ? undefined : a / b;
}

/** Escapes `|` for a Markdown table cell. */
export function cell(text: string): string {
  return text.replaceAll("|", "\\|").replaceAll("\n", " ");
}
