/** The short summary printed at the end of a run. */
import type { BenchResults } from "../results.ts";
import { median, summarize } from "../stats.ts";
import { RECORDING_TARGETS, SFTP_TARGETS, TUNNEL_TARGETS } from "../targets.ts";
import { mib, ms, rates } from "./format.ts";
import { recordingSummary } from "./recording_section.ts";
import { sftpFigures } from "./sftp_section.ts";
import { cpuPerGiB } from "./tunnel_section.ts";
import { verdicts } from "./verdicts.ts";

function pad(text: string, width: number): string {
  return text.length >= width ? text : text + " ".repeat(width - text.length);
}

/** Plain-text summary: one line per target, then the targets. */
export function renderSummary(results: BenchResults): string {
  const lines: string[] = [];
  const header = ["target", "true p50", "true p95", "prompt p50", "stdout MiB/s", "stdin MiB/s"];
  const widths = [28, 10, 10, 11, 13, 12];
  const row = (cells: string[]) => cells.map((c, i) => pad(c, widths[i] ?? 10)).join(" ");
  const sessions = results.targets.filter((t) =>
    !SFTP_TARGETS.includes(t.id) && !TUNNEL_TARGETS.includes(t.id) &&
    !RECORDING_TARGETS.includes(t.id)
  );
  const tunnels = results.targets.filter((t) => TUNNEL_TARGETS.includes(t.id));
  const sftp = results.targets.filter((t) => SFTP_TARGETS.includes(t.id));
  if (sessions.length > 0) lines.push(row(header));
  for (const t of sessions) {
    if (!t.availability.ok) {
      lines.push(`${pad(t.label, widths[0]!)} not available: ${t.availability.reason}`);
      continue;
    }
    const s = summarize(results.sshTrue[t.id]?.samples ?? []);
    const out = rates(results.stdout[t.id]);
    const inn = rates(results.stdin[t.id]);
    lines.push(row([
      t.label,
      ms(s?.median),
      ms(s?.p95),
      ms(median(results.prompt[t.id]?.samples ?? [])),
      out ? out.median.toFixed(1) : "–",
      inn ? inn.median.toFixed(1) : "–",
    ]));
  }
  if (sftp.length > 0) {
    if (sessions.length > 0) lines.push("");
    lines.push(row(["SFTP target", "list p50", "list p95", "", "put MiB/s", "get MiB/s"]));
    for (const t of sftp) {
      if (!t.availability.ok) {
        lines.push(`${pad(t.label, widths[0]!)} not available: ${t.availability.reason}`);
        continue;
      }
      const f = sftpFigures(results, t.id);
      lines.push(row([
        t.label,
        ms(f.listing),
        ms(f.listingP95),
        "",
        f.put?.toFixed(1) ?? "–",
        f.get?.toFixed(1) ?? "–",
      ]));
    }
  }
  if (tunnels.length > 0) {
    if (lines.length > 0) lines.push("");
    lines.push(row(["-L target", "", "", "", "MiB/s", "CPU s/GiB"]));
    for (const t of tunnels) {
      if (!t.availability.ok) {
        lines.push(`${pad(t.label, widths[0]!)} not available: ${t.availability.reason}`);
        continue;
      }
      const runs = results.tunnel[t.id] ?? [];
      const capsuleCpu = cpuPerGiB(runs, "capsule");
      lines.push(row([
        t.label,
        "",
        "",
        "",
        rates(runs)?.median.toFixed(1) ?? "–",
        capsuleCpu?.toFixed(2) ?? "–",
      ]));
    }
  }
  lines.push("");
  for (const [id, runs] of Object.entries(results.concurrency)) {
    for (const run of runs) {
      const s = summarize(run.latencies);
      lines.push(
        `concurrency ${id} ×${run.sessions}: ${run.ok}/${run.sessions} ok, p50 ${ms(s?.median)}, ` +
          `p95 ${ms(s?.p95)}${
            run.peakRssKiB !== undefined ? `, peak RSS ${mib(run.peakRssKiB)}` : ""
          }`,
      );
    }
  }
  for (const [id, m] of Object.entries(results.memory)) {
    const per = m.connected > 0 ? (m.withConnectionsKiB - m.idleKiB) / m.connected : Number.NaN;
    lines.push(`memory ${id}: idle ${mib(m.idleKiB)}, ${per.toFixed(0)} KiB per idle connection`);
  }
  const recording = recordingSummary(results);
  if (recording.length > 0) lines.push("", "PTY stdout (recording cost):", ...recording);
  lines.push("");
  for (const v of verdicts(results)) {
    lines.push(`[${v.status}] ${v.goal.replaceAll("`", "")}: ${v.detail}`);
  }
  if (results.errors.length > 0) lines.push("", ...results.errors.map((e) => `error: ${e}`));
  return lines.join("\n");
}
