/** The `ssh -L` part of the report: its table, and its failures. */
import type { BenchResults, ThroughputRun } from "../results.ts";
import { median } from "../stats.ts";
import { TUNNEL_OPENSSH, TUNNEL_TARGETS } from "../targets.ts";
import { ms, rates, ratio, times } from "./format.ts";
import { okCount, pick, table, unavailableRow } from "./tables.ts";

const GIB = 2 ** 30;

/** Median CPU seconds `name` used per GiB moved, over the successful transfers. */
export function cpuPerGiB(runs: readonly ThroughputRun[], name: string): number | undefined {
  return median(
    runs.flatMap((r) =>
      r.ok && r.cpuMs?.[name] !== undefined && r.bytes > 0
        ? [r.cpuMs[name] / 1000 / (r.bytes / GIB)]
        : []
    ),
  );
}

function perGiBCell(runs: readonly ThroughputRun[], name: string): string {
  const value = cpuPerGiB(runs, name);
  return value === undefined ? "–" : `${value.toFixed(2)} s`;
}

function rows(results: BenchResults): string[][] {
  const base = rates(results.tunnel[TUNNEL_OPENSSH])?.median;
  return pick(results, TUNNEL_TARGETS).map((t) => {
    const missing = unavailableRow(t, 8);
    if (missing) return missing;
    const runs = results.tunnel[t.id];
    if (!runs) return [t.label, "not run", "–", "–", "–", "–", "–", "–"];
    const s = rates(runs);
    return [
      t.label,
      okCount(runs.filter((r) => r.ok).length, runs.length),
      s ? s.median.toFixed(1) : "–",
      s ? s.min.toFixed(1) : "–",
      ms(median(runs.filter((r) => r.ok).map((r) => r.ms))),
      times(ratio(s?.median, base)),
      perGiBCell(runs, "capsule"),
      perGiBCell(runs, "dockerd"),
    ];
  });
}

/** The tunnel section, or nothing when no tunnel target was part of the run. */
export function tunnelSection(results: BenchResults): string {
  if (pick(results, TUNNEL_TARGETS).length === 0) return "";
  const { blobBytes, tunnelCopies, tunnelRuns } = results.settings;
  const size = `${(blobBytes * tunnelCopies) / 2 ** 20} MiB`;
  return `## Local forwarding (\`ssh -L\`), ${size}

OpenSSH's client with \`-L\` to a server on the far side's 127.0.0.1: capsule's static socat
sending the random blob ${tunnelCopies} times over (\`cat\`) to every connection. With OpenSSH
(\`ssh -N -L\`) the bench runs the server on the host and \`sshd\` connects to it; with capsule the
client's session runs it in the session's container (a forward lands in the container of a running
session) and capsule's relay, a socat exec'd in that container, connects to it, its bytes crossing
\`dockerd\`'s exec stream. The bench connects to the forwarded port and
reads until the server closes, hashing what arrives (SHA-256); a run counts only with every byte
and the right hash. The time is from connect to close. One warm-up transfer, then ${tunnelRuns}
timed ones per target, one after another. The CPU columns are the CPU time (user + system, median)
capsule's process and \`dockerd\` used per GiB moved.

${
    table([
      "target",
      "runs ok",
      "median MiB/s",
      "slowest MiB/s",
      "median time",
      "× OpenSSH",
      "CPU/GiB: capsule",
      "CPU/GiB: dockerd",
    ], rows(results))
  }`;
}

/** One line per failed tunnel transfer. */
export function tunnelFailures(results: BenchResults): string[] {
  const label = (id: string) => results.targets.find((t) => t.id === id)?.label ?? id;
  return Object.entries(results.tunnel).flatMap(([id, runs]) =>
    runs.filter((r) => !r.ok).map((r) => `- \`ssh -L\`, ${label(id)}: ${r.error}`)
  );
}
