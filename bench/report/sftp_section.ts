/** The SFTP part of the report: its tables, how it was measured, and its failures. */
import { CAPSULE_EQUIVALENT_FLAGS } from "../docker_run_model.ts";
import { LISTING_MARKER } from "../figures/sftp.ts";
import type { BenchResults, ThroughputRun } from "../results.ts";
import { SFTP_DIR_TARGET, SFTP_SERVER } from "../sftp_model.ts";
import { median, summarize } from "../stats.ts";
import {
  SFTP_CAPSULE,
  SFTP_DOCKER_EXEC,
  SFTP_DOCKER_RUN,
  SFTP_HOST,
  SFTP_TARGETS,
} from "../targets.ts";
import { ms, rates, ratio, times } from "./format.ts";
import { cpuCell, okCount, pick, seriesCells, table, unavailableRow } from "./tables.ts";

const BASE = "× docker run";

function listingRows(results: BenchResults): string[][] {
  const base = median(results.sftp[SFTP_DOCKER_RUN]?.listing.samples ?? []);
  return pick(results, SFTP_TARGETS).map((t) => {
    const missing = unavailableRow(t, 5);
    if (missing) return missing;
    const series = results.sftp[t.id]?.listing;
    return [t.label, ...seriesCells(series), times(ratio(median(series?.samples ?? []), base))];
  });
}

function transferRows(results: BenchResults, direction: "put" | "get"): string[][] {
  const base = rates(results.sftp[SFTP_DOCKER_RUN]?.[direction])?.median;
  return pick(results, SFTP_TARGETS).map((t) => {
    const missing = unavailableRow(t, 9);
    if (missing) return missing;
    const runs: ThroughputRun[] | undefined = results.sftp[t.id]?.[direction];
    if (!runs) return [t.label, "not run", "–", "–", "–", "–", "–", "–", "–"];
    const s = rates(runs);
    const okRuns = runs.filter((r) => r.ok);
    return [
      t.label,
      okCount(okRuns.length, runs.length),
      s ? s.median.toFixed(1) : "–",
      s ? s.min.toFixed(1) : "–",
      ms(median(okRuns.map((r) => r.ms))),
      ms(median(okRuns.flatMap((r) => (r.wallMs !== undefined ? [r.wallMs] : [])))),
      times(ratio(s?.median, base)),
      cpuCell(runs, "capsule"),
      cpuCell(runs, "dockerd"),
    ];
  });
}

/** The SFTP section, or nothing when no SFTP target was part of the run. */
export function sftpSection(results: BenchResults): string {
  if (pick(results, SFTP_TARGETS).length === 0) return "";
  const size = `${results.settings.blobBytes / 2 ** 20} MiB`;
  const transferHeaders = [
    "target",
    "runs ok",
    "median MiB/s",
    "slowest MiB/s",
    "median transfer",
    "median command",
    BASE,
    "CPU: capsule",
    "CPU: dockerd",
  ];
  return `## SFTP, ${size}

OpenSSH's \`sftp\` client in batch mode (\`sftp -b -\`, its default 32 KiB requests, 64 in
flight), against capsule, against OpenSSH wired by hand to the same static sftp-server in a busybox
container, and against OpenSSH's own SFTP on the host (the floor). The ratios are against OpenSSH +
docker run (a fresh container per SFTP session, as capsule's session mode).

### First listing

From starting \`sftp\` to the listing of a directory holding one file (a batch of a single \`ls\`,
which must show the file), ${results.settings.warmupRuns} warm-up runs not counted: connection,
login, subsystem request, container start and the SFTP handshake. The session's end is not timed.

${table(["target", "runs ok", "median", "p95", BASE], listingRows(results))}

### put

The random ${size} file uploaded with \`put\` into the listed directory (bind-mounted read-write at
\`${SFTP_DIR_TARGET}\` in the containers); after each run the bench hashes the copy on the host
(SHA-256) and removes it. MiB/s are over the transfer alone: from \`sftp\`'s echo of the \`put\` to
its echo of the next command (\`pwd\`), after the server confirmed the close of the file. "Median
command" is the whole \`sftp\` run, session set-up and teardown included. The CPU columns are the CPU
time (user + system, median) capsule's process and \`dockerd\` used during a run.
${results.settings.sftpRuns} run(s) per target.

${table(transferHeaders, transferRows(results, "put"))}

### get

The same file downloaded with \`get\` from \`/bench/blob\` (bind-mounted read-only; on the host, the
file itself), hashed after each run.

${table(transferHeaders, transferRows(results, "get"))}`;
}

/** The method bullet of the SFTP figures, or nothing when they were not part of the run. */
export function sftpMethod(results: BenchResults): string {
  if (pick(results, SFTP_TARGETS).length === 0) return "";
  return `- SFTP: the hand-wired model the SFTP target is held to is an \`sshd\` whose
  \`Subsystem sftp\` script runs \`exec docker run --rm -i ${
    CAPSULE_EQUIVALENT_FLAGS.join(" ")
  } -v blob:/bench/blob:ro -v dir:${SFTP_DIR_TARGET} -v tools:/.capsule:ro busybox ${SFTP_SERVER}\`:
  a fresh container per SFTP session whose own process is the sftp-server, which is what capsule
  does in session mode, with the fewest Docker CLI calls (one). Starting a container per session
  with \`docker run -d\` and then \`docker exec -i\` into it would add a CLI call, an exec and a
  clean-up step to every session, a model capsule would beat for the wrong reasons. The other
  hand-made wiring, \`docker exec -i\` into one long-running container shared by every login, is
  measured for reference only: it starts no container per session and isolates no session from
  another. The containers get capsule's static sftp-server from its tools build (\`findTools()\`,
  bind-mounted read-only at \`/.capsule\`) and the settings of capsule's default container. The
  floor is \`internal-sftp\` (no process per session beyond sshd's own). The listed directory holds
  one file, \`${LISTING_MARKER}\`.`;
}

/** One line per failed SFTP run. */
export function sftpFailures(results: BenchResults): string[] {
  const lines: string[] = [];
  const label = (id: string) => results.targets.find((t) => t.id === id)?.label ?? id;
  for (const [id, figures] of Object.entries(results.sftp)) {
    const counts = new Map<string, number>();
    for (const f of figures.listing.failures) counts.set(f, (counts.get(f) ?? 0) + 1);
    for (const [why, n] of counts) lines.push(`- SFTP listing, ${label(id)}: ${n}× ${why}`);
    for (const run of [...figures.put, ...figures.get]) {
      if (!run.ok) lines.push(`- SFTP, ${label(id)}: ${run.error}`);
    }
  }
  return lines;
}

/** Median and p95 of a target's first listing, and its median put and get MiB/s. */
export function sftpFigures(
  results: BenchResults,
  id: string,
): { listing?: number; listingP95?: number; put?: number; get?: number } {
  const figures = results.sftp[id];
  const listing = summarize(figures?.listing.samples ?? []);
  const put = rates(figures?.put)?.median;
  const get = rates(figures?.get)?.median;
  return {
    ...(listing ? { listing: listing.median, listingP95: listing.p95 } : {}),
    ...(put !== undefined ? { put } : {}),
    ...(get !== undefined ? { get } : {}),
  };
}

/** A sentence on where SFTP's time goes, when the floor and the docker run model were measured. */
export function sftpObservation(results: BenchResults): string | undefined {
  const host = sftpFigures(results, SFTP_HOST);
  const run = sftpFigures(results, SFTP_DOCKER_RUN);
  const exec = sftpFigures(results, SFTP_DOCKER_EXEC);
  const capsule = sftpFigures(results, SFTP_CAPSULE);
  if (host.listing === undefined || run.listing === undefined) return undefined;
  const rate = (value: number | undefined) => (value === undefined ? "–" : value.toFixed(0));
  const parts = [
    `SFTP: the first listing takes ${ms(host.listing)} with OpenSSH on the host and ` +
    `${ms(run.listing)} with a fresh container per session (OpenSSH + docker run)` +
    (exec.listing !== undefined
      ? `; \`docker exec\` into a running container, which starts none but still runs a ` +
        `Docker CLI process and an exec per session, takes ${ms(exec.listing)}`
      : "") +
    (capsule.listing !== undefined ? `; capsule takes ${ms(capsule.listing)}` : "") + ".",
    "With docker run every byte also crosses the Docker CLI and dockerd's attach stream: put " +
    `and get move ${rate(run.put)} and ${rate(run.get)} MiB/s, against ` +
    `${rate(host.put)} and ${rate(host.get)} MiB/s on the host` +
    (capsule.put !== undefined || capsule.get !== undefined
      ? ` and ${rate(capsule.put)} and ${rate(capsule.get)} MiB/s through capsule`
      : "") +
    ".",
  ];
  return parts.join(" ");
}
