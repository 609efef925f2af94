/** Building blocks of the report's tables. */
import type { BenchResults, Series, TargetInfo, ThroughputRun } from "../results.ts";
import { median, summarize } from "../stats.ts";
import { cell, ms } from "./format.ts";

/** A Markdown table. */
export function table(headers: string[], rows: string[][]): string {
  const line = (cells: string[]) => `| ${cells.map(cell).join(" | ")} |`;
  return [line(headers), line(headers.map(() => "---")), ...rows.map(line)].join("\n");
}

/** Targets in `order` that were part of the run. */
export function pick(results: BenchResults, order: readonly string[]): TargetInfo[] {
  return order.flatMap((id) => results.targets.filter((t) => t.id === id));
}

/** `5`, or `4 of 5` when some failed. */
export function okCount(done: number, attempts: number): string {
  return done === attempts ? String(done) : `${done} of ${attempts}`;
}

/** "not available" cells for a target that could not start. */
export function unavailableRow(target: TargetInfo, columns: number): string[] | undefined {
  if (target.availability.ok) return undefined;
  return [target.label, "not available", ...Array(columns - 2).fill("–")];
}

/** Runs ok, median and p95 of a latency series. */
export function seriesCells(series: Series | undefined): [string, string, string] {
  if (!series) return ["not run", "–", "–"];
  const s = summarize(series.samples);
  return [okCount(series.samples.length, series.attempts), ms(s?.median), ms(s?.p95)];
}

/** Median CPU time `name` used in the successful transfers, in seconds. */
export function cpuCell(runs: readonly ThroughputRun[], name: string): string {
  const used = runs.flatMap((r) => (r.ok && r.cpuMs?.[name] !== undefined ? [r.cpuMs[name]] : []));
  const m = median(used);
  return m === undefined ? "–" : `${(m / 1000).toFixed(2)} s`;
}

/** The median share of the machine's cores busy during the ok runs, as a percentage. */
export function busyCell(runs: readonly ThroughputRun[]): string {
  const m = median(
    runs.flatMap((r) => (r.ok && r.machineBusy !== undefined ? [r.machineBusy] : [])),
  );
  return m === undefined ? "–" : `${(m * 100).toFixed(0)}%`;
}
