/** The recording part of the report: PTY stdout with recording off and on, side by side. */
import type { BenchResults } from "../results.ts";
import { median } from "../stats.ts";
import { RECORDING_OFF, RECORDING_ON, RECORDING_TARGETS } from "../targets.ts";
import { ms, rates, ratio, times } from "./format.ts";
import { cpuPerGiB } from "./tunnel_section.ts";
import { okCount, pick, table, unavailableRow } from "./tables.ts";
import type { Verdict } from "./verdicts.ts";

/** Median MiB/s of a recording variant's good runs. */
function rateOf(results: BenchResults, id: string): number | undefined {
  return rates(results.recording[id])?.median;
}

function rows(results: BenchResults): string[][] {
  const base = rateOf(results, RECORDING_OFF);
  return pick(results, RECORDING_TARGETS).map((t) => {
    const missing = unavailableRow(t, 8);
    if (missing) return missing;
    const runs = results.recording[t.id];
    if (!runs) return [t.label, "not run", "–", "–", "–", "–", "–", "–"];
    const s = rates(runs);
    const ok = runs.filter((r) => r.ok);
    const casts = ok.flatMap((r) => r.castBytes === undefined ? [] : [r.castBytes / r.bytes]);
    const stopped = runs.filter((r) => r.recordingStopped).length;
    return [
      t.label,
      okCount(ok.length, runs.length),
      s ? s.median.toFixed(1) : "–",
      s ? s.min.toFixed(1) : "–",
      ms(median(ok.map((r) => r.ms))),
      times(ratio(s?.median, base)),
      cpuPerGiB(runs, "capsule")?.toFixed(2) ?? "–",
      casts.length === 0
        ? "–"
        : `${times(median(casts))}${stopped > 0 ? `, stopped in ${stopped}` : ""}`,
    ];
  });
}

/** The section, or nothing when the recording part did not run. */
export function recordingSection(results: BenchResults): string {
  if (pick(results, RECORDING_TARGETS).length === 0) return "";
  const size = `${results.settings.blobBytes / 2 ** 20} MiB`;
  return `## Recording cost: stdout on a PTY, ${size}

Three capsules side by side: recording off, \`recording.dir\` set, and \`recording.dir\` with
\`audit.file\`. Each session is \`ssh -tt host 'stty raw -echo && cat /bench/blob'\`: a PTY (only
PTY sessions are recorded) in raw mode, so that the bytes arrive as sent and are checked by their
SHA-256. The file is text, the base64 of the random blob in lines of 76 (what a terminal shows;
the recording writes it as JSON strings). One warm-up, then ${results.settings.throughputRuns}
timed run(s) per variant, taken in turn (off, on, on + audit, off, ...) so that a busy machine
weighs on all of them alike. The time is the whole command, session set-up included. "CPU/GiB" is
capsule's CPU time (user + system) per GiB moved; "cast ÷ output" is the size of the recording
against the bytes shown (JSON escapes and timings), and says when the recording stopped (it stops
when it falls 8 MiB behind, never holding the session up).

${
    table([
      "variant",
      "runs ok",
      "median MiB/s",
      "slowest MiB/s",
      "median time",
      "× recording off",
      "CPU/GiB: capsule",
      "cast ÷ output",
    ], rows(results))
  }`;
}

/** Summary lines of the recording part. */
export function recordingSummary(results: BenchResults): string[] {
  if (pick(results, RECORDING_TARGETS).length === 0) return [];
  const off = rateOf(results, RECORDING_OFF);
  return pick(results, RECORDING_TARGETS).map((t) => {
    const rate = rateOf(results, t.id);
    const cpu = cpuPerGiB(results.recording[t.id] ?? [], "capsule");
    return `${t.label}: ${rate?.toFixed(1) ?? "–"} MiB/s, ${
      times(ratio(rate, off))
    } of recording off, capsule CPU ${cpu?.toFixed(2) ?? "–"} s/GiB`;
  });
}

/** PTY stdout throughput with recording on ≥ 0.9 × with it off. */
export function recordingTarget(results: BenchResults): Verdict {
  const goal = "stdout throughput on a PTY with recording on ≥ 0.9 × with recording off";
  const on = rateOf(results, RECORDING_ON);
  const off = rateOf(results, RECORDING_OFF);
  const stopped = (results.recording[RECORDING_ON] ?? []).filter((r) => r.recordingStopped);
  const basis = `median MiB/s: on ${on?.toFixed(1) ?? "–"}, off ${off?.toFixed(1) ?? "–"}${
    stopped.length > 0 ? `; the recording stopped early in ${stopped.length} run(s)` : ""
  }`;
  const value = ratio(on, off);
  if (value === undefined) {
    return { goal, status: "not evaluated", detail: "a figure is missing or failed", basis };
  }
  return {
    goal,
    status: value >= 0.9 && stopped.length === 0 ? "met" : "not met",
    detail: `${times(value)} vs target ≥ ${times(0.9)}${
      stopped.length > 0 ? ", but the recording did not keep up in every run" : ""
    }`,
    basis,
  };
}

/** One line per failed run of the recording part. */
export function recordingFailures(results: BenchResults): string[] {
  const label = (id: string) => results.targets.find((t) => t.id === id)?.label ?? id;
  return Object.entries(results.recording).flatMap(([id, runs]) =>
    runs.filter((r) => !r.ok).map((r) => `- PTY stdout, ${label(id)}: ${r.error}`)
  );
}
