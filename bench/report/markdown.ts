/** BENCHMARKS.md, generated from one run's results. */
import { LIFECYCLE_STEPS } from "../container_floor.ts";
import { CAPSULE_EQUIVALENT_FLAGS } from "../docker_run_model.ts";
import type { BenchResults, Series, ThroughputRun } from "../results.ts";
import { median, summarize } from "../stats.ts";
import {
  CAPSULE,
  CAPSULE_POOL,
  CONTAINER_FLOOR,
  DOCKER_CLI,
  DOCKER_CLI_DEFAULTS,
  SSH_FLOOR,
  SSH_FLOOR_CURVE25519,
  SSH_HOST,
  SSHD_DOCKER_RUN,
} from "../targets.ts";
import { mib, ms, rates, ratio, times } from "./format.ts";
import { pullSection } from "./pull_section.ts";

import { reading } from "./reading.ts";
import { recordingFailures, recordingSection } from "./recording_section.ts";
import { sftpFailures, sftpMethod, sftpSection } from "./sftp_section.ts";
import { busyCell, cpuCell, okCount, pick, seriesCells, table, unavailableRow } from "./tables.ts";
import { tunnelFailures, tunnelSection } from "./tunnel_section.ts";
import { verdicts } from "./verdicts.ts";

/** The hand-kept throughput profile (issue 11), copied into every report. */
const THROUGHPUT_PROFILE = Deno.readTextFileSync(
  new URL("../throughput_profile.md", import.meta.url),
).trim();

function intro(results: BenchResults): string {
  const quick = results.settings.quick
    ? "\n\n**This is a `--quick` run** (fewer runs, a smaller blob, lower concurrency): its " +
      "figures are indicative only."
    : "";
  const partial = results.settings.only !== undefined
    ? `\n\n**This is a partial run** (\`--only ${
      results.settings.only.join(",")
    }\`): the other parts were not measured.`
    : "";
  return `# Benchmarks

capsule measured against what it replaces, all on one machine in one run. This file is written by
\`deno task bench\` (\`bench/main.ts\`); do not edit its figures by hand. To reproduce:

\`\`\`sh
scripts/setup.sh --test && deno task bench      # about 9 minutes on 2 cores; --quick for a smoke run
\`\`\`

The bench starts every server itself on 127.0.0.1, measures, stops them and removes every container
it caused. Run it on an otherwise idle machine: timings move with load.${quick}${partial}`;
}

function machine(results: BenchResults): string {
  const m = results.machine;
  if (!m) return "## Machine\n\nNot recorded (the run failed before it could be).";
  return `## Machine

${
    table(["", ""], [
      ["CPU", `${m.cpu}, ${m.cores} cores`],
      ["Memory", `${m.memoryGiB.toFixed(1)} GiB`],
      ["OS, kernel", `${m.os}, Linux ${m.kernel}`],
      ["Docker engine", m.docker],
      ["Deno", m.deno],
      ["OpenSSH", m.openssh],
      ["capsule", m.capsule],
      ["Date", m.date],
      ["Load average (1 min) at start", m.loadAtStart],
      ["Run took", ms(results.durationMs)],
    ])
  }`;
}

function targetsList(results: BenchResults): string {
  const lines = results.targets.map((t) =>
    `- **${t.label}**: ${t.description}` +
    (t.availability.ok ? "" : ` — **not available**: \`${t.availability.reason}\``)
  );
  return `## What is measured\n\n${lines.join("\n")}`;
}

function targetsSection(results: BenchResults): string {
  const lines = verdicts(results).map((v) => {
    const status = v.status === "met"
      ? `**met** (${v.detail})`
      : v.status === "not met"
      ? `**not met** (${v.detail})`
      : `not evaluated (${v.detail})`;
    return `- ${v.goal}: ${status}.${v.basis ? `<br>${v.basis}.` : ""}`;
  });
  return `## Targets\n\nEvaluated from this run's figures.\n\n${lines.join("\n")}`;
}

function sshTrueSection(results: BenchResults): string {
  const floor = median(results.sshTrue[SSH_FLOOR]?.samples ?? []);
  const container = median(results.sshTrue[CONTAINER_FLOOR]?.samples ?? []);
  const floors = floor === undefined || container === undefined ? undefined : floor + container;
  const rows = pick(results, [
    SSH_FLOOR,
    SSH_FLOOR_CURVE25519,
    CONTAINER_FLOOR,
    CAPSULE,
    CAPSULE_POOL,
    SSHD_DOCKER_RUN,
  ]).map((t) => {
    const missing = unavailableRow(t, 6);
    if (missing) return missing;
    const series = results.sshTrue[t.id];
    const m = median(series?.samples ?? []);
    return [t.label, ...seriesCells(series), times(ratio(m, floor)), times(ratio(m, floors))];
  });
  const exits = Object.entries(results.exitStatus).map(([id, check]) => {
    const label = results.targets.find((t) => t.id === id)?.label ?? id;
    return `${label}: ${check.got}${check.ok ? " ✓" : ` ✗ (expected ${check.expected})`}`;
  });
  return `## \`ssh host true\`

Wall time of the OpenSSH client running \`true\` (connect, key exchange, public-key login, session,
exit status, disconnect), one run after another, ${results.settings.warmupRuns} warm-up runs not
counted. Every run must exit 0. For the container floor: the API lifecycle alone. The ratios are
against the SSH floor's median and against the sum of both floors' medians.

${table(["target", "runs ok", "median", "p95", "× SSH floor", "× (SSH + container floor)"], rows)}

\`ssh host 'exit 3'\` exit status, once per target: ${exits.length > 0 ? exits.join("; ") : "–"}.

${phasesSection(results)}`;
}

function phasesSection(results: BenchResults): string {
  const parts: string[] = [];
  for (const id of [CAPSULE, CAPSULE_POOL]) {
    const phases = results.phases[id];
    if (!phases || Object.keys(phases).length === 0) continue;
    const label = results.targets.find((t) => t.id === id)?.label ?? id;
    const rows = Object.entries(phases).map(([name, samples]) => {
      const s = summarize(samples);
      return [name, ms(s?.median), ms(s?.p95)];
    });
    const modes = Object.entries(results.containerModes[id] ?? {})
      .map(([mode, n]) => `${n} in a ${mode === "pool" ? "warm (pool)" : "fresh"} container`)
      .join(", ");
    parts.push(
      `${label}, from the timestamps of its own log (millisecond resolution)${
        modes ? `; sessions: ${modes}` : ""
      }:\n\n${table(["phase", "median", "p95"], rows)}`,
    );
  }
  const steps = results.phases[CONTAINER_FLOOR];
  if (steps) {
    const rows = LIFECYCLE_STEPS.map((step) => {
      const s = summarize(steps[step] ?? []);
      return [step, ms(s?.median), ms(s?.p95)];
    });
    parts.push(`Container floor, step by step:\n\n${table(["step", "median", "p95"], rows)}`);
  }
  return parts.length > 0 ? `### Where the time goes\n\n${parts.join("\n\n")}` : "";
}

function promptSection(results: BenchResults): string {
  const base = median(results.prompt[SSHD_DOCKER_RUN]?.samples ?? []);
  const rows = pick(results, [CAPSULE, CAPSULE_POOL, SSHD_DOCKER_RUN]).map((t) => {
    const missing = unavailableRow(t, 5);
    if (missing) return missing;
    const series = results.prompt[t.id];
    return [t.label, ...seriesCells(series), times(ratio(median(series?.samples ?? []), base))];
  });
  return `## Connect to first prompt (PTY)

Wall time from starting OpenSSH's \`ssh -tt\` without a command (a login shell on a PTY) to the
first output holding busybox's root prompt (a \`#\` and a space); the shell is then exited, outside
the timing. The docker run model gets \`-t\` from its ForceCommand script. Not applicable to the
floors (no shell).

${table(["target", "runs ok", "median", "p95", "× OpenSSH + docker run"], rows)}`;
}

function throughputRows(
  results: BenchResults,
  figure: Record<string, ThroughputRun[]>,
): string[][] {
  const base = rates(figure[DOCKER_CLI])?.median;
  return pick(results, [
    DOCKER_CLI,
    DOCKER_CLI_DEFAULTS,
    SSH_HOST,
    CAPSULE,
    CAPSULE_POOL,
    SSHD_DOCKER_RUN,
  ])
    .map((t) => {
      const missing = unavailableRow(t, 9);
      if (missing) return missing;
      const runs = figure[t.id];
      if (!runs) return [t.label, "not run", "–", "–", "–", "–", "–", "–", "–"];
      const s = rates(runs);
      const okRuns = runs.filter((r) => r.ok);
      return [
        t.label,
        okCount(okRuns.length, runs.length),
        s ? s.median.toFixed(1) : "–",
        s ? s.min.toFixed(1) : "–",
        ms(median(okRuns.map((r) => r.ms))),
        times(ratio(s?.median, base)),
        cpuCell(runs, "capsule"),
        cpuCell(runs, "dockerd"),
        busyCell(runs),
      ];
    });
}

function throughputSection(results: BenchResults): string {
  const size = `${results.settings.blobBytes / 2 ** 20} MiB`;
  const headers = [
    "target",
    "runs ok",
    "median MiB/s",
    "slowest MiB/s",
    "median time",
    "× Docker CLI",
    "CPU: capsule",
    "CPU: dockerd",
    "machine busy",
  ];
  return `## stdout throughput, ${size}

A random ${size} file on the host, bind-mounted read-only at \`/bench/blob\`; the session runs
\`cat /bench/blob\` and the bench hashes what arrives (SHA-256, streamed) and counts the bytes. A
run counts only with exit 0, every byte and the right hash. The time is the whole command,
session set-up included; ${results.settings.throughputRuns} run(s) per target. The baseline is the
Docker CLI without SSH:
\`docker run --rm -i <capsule's settings> -v blob:/bench/blob:ro busybox cat /bench/blob\`. The
second Docker row uses Docker's default settings (json-file log), for reference; "OpenSSH, no
container" is \`sshd\` running \`cat\` on the host: what SSH alone carries here.
The CPU columns are the CPU time (user + system, median) that capsule's process and \`dockerd\`
used during a transfer; "machine busy" is the share of both cores' time that anything (client,
server, engine, the bench's hashing) kept busy during it: near 100%, the machine, not one thread,
sets the speed.

${table(headers, throughputRows(results, results.stdout))}

## stdin throughput, ${size}

The same file fed to the client's stdin (by the shell, \`< blob\`); the session runs \`sha256sum\`
(busybox) and the printed hash must match.

${table(headers, throughputRows(results, results.stdin))}`;
}

function concurrencySection(results: BenchResults): string {
  const rows: string[][] = [];
  for (const t of pick(results, [CAPSULE, CAPSULE_POOL, SSHD_DOCKER_RUN])) {
    const missing = unavailableRow(t, 7);
    if (missing) {
      rows.push(missing);
      continue;
    }
    for (const run of results.concurrency[t.id] ?? []) {
      const s = summarize(run.latencies);
      const base = results.concurrency[SSHD_DOCKER_RUN]?.find((r) => r.sessions === run.sessions);
      rows.push([
        t.label,
        String(run.sessions),
        okCount(run.ok, run.sessions),
        ms(s?.median),
        ms(s?.p95),
        ms(run.wallMs),
        times(ratio(s?.p95, summarize(base?.latencies ?? [])?.p95)),
      ]);
    }
  }
  return `## Concurrency

All sessions started at once, each an OpenSSH client running \`sleep 2; echo ok\`. A session succeeds
when it prints exactly \`ok\` and exits 0; latencies are of the successful ones (2 s of it is the
sleep). Wall is from the first start to the last exit.

${
    table(
      ["target", "sessions", "ok", "p50", "p95", "wall", "× OpenSSH + docker run p95"],
      rows,
    )
  }${concurrencyPhases(results)}`;
}

/** Where the time of the largest concurrency run goes in capsule, and whether capsule kept up. */
function concurrencyPhases(results: BenchResults): string {
  const top = Math.max(...results.settings.concurrency);
  const parts: string[] = [];
  for (const t of pick(results, [CAPSULE, CAPSULE_POOL])) {
    const run = results.concurrency[t.id]?.find((r) => r.sessions === top);
    if (!run?.phases || Object.keys(run.phases).length === 0) continue;
    const rows = Object.entries(run.phases).map(([name, samples]) => {
      const s = summarize(samples);
      return [name, ms(s?.median), ms(s?.p95)];
    });
    const cpu = run.cpuMs ?? {};
    const delay = run.loopDelay;
    const facts = [
      cpu["capsule"] !== undefined && cpu["dockerd"] !== undefined
        ? `CPU during the run: capsule ${ms(cpu["capsule"])}, dockerd ${ms(cpu["dockerd"])} (${
          ((cpu["capsule"] / Math.max(1, run.wallMs)) * 100).toFixed(0)
        }% of one core for capsule over the ${ms(run.wallMs)} wall)`
        : undefined,
      delay
        ? `capsule's event loop (a 100 ms probe timer): ${delay.probes} probes, ${delay.over10ms} ` +
          `over 10 ms late; half within ${delayBound(delay.p50BoundMs)}, 99% within ` +
          `${delayBound(delay.p99BoundMs)}, all within ${delayBound(delay.maxBoundMs)}`
        : undefined,
    ].filter((f) => f !== undefined);
    parts.push(
      `${t.label}, ${top} sessions at once, from the timestamps of its own log:\n\n${
        table(["phase", "median", "p95"], rows)
      }${facts.length > 0 ? `\n\n${facts.join(". ")}.` : ""}`,
    );
  }
  return parts.length > 0
    ? `\n\n### Where the time goes at ${top} sessions\n\n${parts.join("\n\n")}`
    : "";
}

function delayBound(msBound: number): string {
  return Number.isFinite(msBound) ? `${msBound} ms` : "over 1 s";
}

function memorySection(results: BenchResults): string {
  const top = Math.max(...results.settings.concurrency);
  const rows = pick(results, [CAPSULE, CAPSULE_POOL]).map((t) => {
    const missing = unavailableRow(t, 6);
    if (missing) return missing;
    const m = results.memory[t.id];
    const run = results.concurrency[t.id]?.find((r) => r.sessions === top);
    const before = mib(run?.rssBeforeKiB);
    const peak = mib(run?.peakRssKiB);
    if (!m) return [t.label, "not run", "–", "–", before, peak];
    const per = m.connected > 0 ? (m.withConnectionsKiB - m.idleKiB) / m.connected : undefined;
    return [
      t.label,
      mib(m.idleKiB),
      `${mib(m.withConnectionsKiB)} (${okCount(m.connected, m.connections)} connections)`,
      per === undefined ? "–" : `${per.toFixed(0)} KiB`,
      before,
      peak,
    ];
  });
  return `## Memory

Resident memory (\`ps -o rss=\`) of capsule's deno process: idle 2 s after it starts listening; with
${results.settings.idleConnections} ssh2 connections that authenticate and open no channel (per
connection: the difference from idle, divided by their number); and just before and at the peak
(sampled every 100 ms) of the ${top}-session concurrency run, which comes after the
\`ssh host true\` and prompt figures and before the throughput ones.

${
    table(
      [
        "target",
        "idle after start",
        "with idle connections",
        "per connection",
        `before ${top} sessions`,
        `peak, ${top} sessions`,
      ],
      rows,
    )
  }`;
}

function failuresSection(results: BenchResults): string {
  const lines: string[] = [...results.errors.map((e) => `- ${e}`)];
  const label = (id: string) => results.targets.find((t) => t.id === id)?.label ?? id;
  const series = (name: string, figure: Record<string, Series>) => {
    for (const [id, s] of Object.entries(figure)) {
      const counts = new Map<string, number>();
      for (const f of s.failures) counts.set(f, (counts.get(f) ?? 0) + 1);
      for (const [why, n] of counts) lines.push(`- ${name}, ${label(id)}: ${n}× ${why}`);
    }
  };
  series("`ssh host true`", results.sshTrue);
  series("prompt", results.prompt);
  series("prompt with a pull", results.pull);
  for (const [name, figure] of [["stdout", results.stdout], ["stdin", results.stdin]] as const) {
    for (const [id, runs] of Object.entries(figure)) {
      for (const run of runs) if (!run.ok) lines.push(`- ${name}, ${label(id)}: ${run.error}`);
    }
  }
  for (const [id, runs] of Object.entries(results.concurrency)) {
    for (const run of runs) {
      for (const f of run.failures) lines.push(`- ${run.sessions} sessions, ${label(id)}: ${f}`);
      if (run.leftContainers > 0) {
        lines.push(
          `- ${run.sessions} sessions, ${
            label(id)
          }: ${run.leftContainers} containers still there 60 s later`,
        );
      }
    }
  }
  for (const [id, check] of Object.entries(results.exitStatus)) {
    if (!check.ok) lines.push(`- \`exit 3\`, ${label(id)}: got ${check.got}`);
  }
  lines.push(...sftpFailures(results), ...tunnelFailures(results), ...recordingFailures(results));
  return `## Failures\n\n${lines.length > 0 ? lines.join("\n") : "None: every run succeeded."}`;
}

function methodSection(results: BenchResults): string {
  const c = results.cleanup;
  const notes = results.notes.map((n) => `- ${n}`);
  return `## Method and notes

- Medians and p95 interpolate between the nearest ranks. Targets run one after another (never two
  at a time); each starts fresh, gets its warm-up runs, and is stopped before the next.
- The OpenSSH client is the same everywhere (\`ssh -i key -o BatchMode=yes ...\`, no
  multiplexing). It negotiates its default key exchange with each server: sntrup761x25519 with
  OpenSSH, curve25519 with capsule (which does not offer sntrup761), so the SSH floor is also
  measured with the client pinned to curve25519-sha256.
- The SSH floor and the docker run model are Debian's \`sshd\` with a private config on a loopback
  port (its own host key, \`UsePAM no\`, \`MaxStartups 200:30:400\`), logging in as the current user.
- capsule runs from source (\`deno run main.ts serve\`) with \`log.level: info\` (JSON on stderr,
  drained by the bench), \`maxStartups: 200:30:400\`, \`maxStartupsPerSource: 200\` and penalties off,
  so that the concurrency figure is not throttled.
- The docker run model's ForceCommand script and the Docker CLI baseline use the flags of capsule's
  default container, \`${CAPSULE_EQUIVALENT_FLAGS.join(" ")}\`, plus \`--rm -i\` and a bench
  label, so that they differ from capsule in the SSH and orchestration layer only.
${[sftpMethod(results), ...notes].filter((n) => n !== "").join("\n")}
- Clean-up: ${c.before} container(s) of earlier bench runs removed before starting; ${c.atEnd}
  container(s) left at the end that the bench had to remove itself${
    c.errors.length > 0 ? `; clean-up errors: ${c.errors.join("; ")}` : ""
  }.`;
}

/** The whole report. */
export function renderMarkdown(results: BenchResults): string {
  return [
    intro(results),
    machine(results),
    targetsList(results),
    targetsSection(results),
    reading(results),
    sshTrueSection(results),
    promptSection(results),
    throughputSection(results),
    concurrencySection(results),
    memorySection(results),
    sftpSection(results),
    tunnelSection(results),
    THROUGHPUT_PROFILE,
    recordingSection(results),
    pullSection(results),
    failuresSection(results),
    methodSection(results),
  ].filter((section) => section !== "").join("\n\n") + "\n";
}
