/** The targets capsule is held to, evaluated from one run's figures. */
import type { BenchResults } from "../results.ts";
import { median, summarize } from "../stats.ts";
import {
  CAPSULE,
  CAPSULE_POOL,
  CONTAINER_FLOOR,
  DOCKER_CLI,
  SFTP_CAPSULE,
  SFTP_DOCKER_EXEC,
  SFTP_DOCKER_RUN,
  SSH_FLOOR,
  SSH_FLOOR_CURVE25519,
  SSHD_DOCKER_RUN,
} from "../targets.ts";
import { ms, rates, ratio, times } from "./format.ts";
import { recordingTarget } from "./recording_section.ts";
import { sftpFigures } from "./sftp_section.ts";

/** One target and how this run did against it. */
export interface Verdict {
  goal: string;
  status: "met" | "not met" | "not evaluated";
  /** `1.02× vs target ≤ 1.10×`, or why it could not be evaluated. */
  detail: string;
  /** The figures it was computed from. */
  basis: string;
}

function unavailable(results: BenchResults, id: string): string | undefined {
  const target = results.targets.find((t) => t.id === id);
  if (target === undefined) return `${id} was not run`;
  return target.availability.ok ? undefined : `${target.label} not available`;
}

function atMost(goal: string, value: number | undefined, limit: number, basis: string): Verdict {
  if (value === undefined) {
    return { goal, status: "not evaluated", detail: "a figure is missing", basis };
  }
  return {
    goal,
    status: value <= limit ? "met" : "not met",
    detail: `${times(value)} vs target ≤ ${times(limit)}`,
    basis,
  };
}

function atLeast(goal: string, value: number | undefined, limit: number, basis: string): Verdict {
  if (value === undefined) {
    return { goal, status: "not evaluated", detail: "a figure is missing or failed", basis };
  }
  return {
    goal,
    status: value >= limit ? "met" : "not met",
    detail: `${times(value)} vs target ≥ ${times(limit)}`,
    basis,
  };
}

function sshTrueMedian(results: BenchResults, id: string): number | undefined {
  return median(results.sshTrue[id]?.samples ?? []);
}

/** `ssh host true` via capsule ≤ 1.1 × (SSH floor + container floor), medians. */
function floorsTarget(results: BenchResults): Verdict {
  const goal = "`ssh host true` via capsule ≤ 1.1 × (SSH floor + container floor)";
  const capsule = sshTrueMedian(results, CAPSULE);
  const ssh = sshTrueMedian(results, SSH_FLOOR);
  const container = median(results.sshTrue[CONTAINER_FLOOR]?.samples ?? []);
  const floors = ssh === undefined || container === undefined ? undefined : ssh + container;
  const pinned = sshTrueMedian(results, SSH_FLOOR_CURVE25519);
  const pinnedFloors = pinned === undefined || container === undefined
    ? undefined
    : pinned + container;
  const basis = `medians: capsule ${ms(capsule)}; SSH floor ${ms(ssh)} + container floor ` +
    `${ms(container)} = ${ms(floors)}` +
    (pinnedFloors !== undefined
      ? `; with the floor's client pinned to curve25519 (capsule's key exchange) the floors ` +
        `sum to ${ms(pinnedFloors)} and capsule is at ${times(ratio(capsule, pinnedFloors))}`
      : "");
  return atMost(goal, ratio(capsule, floors), 1.1, basis);
}

/** capsule faster than OpenSSH + docker run on `true`, prompt and concurrency p95. */
function fasterThanDockerRun(results: BenchResults): Verdict {
  const goal =
    "capsule faster than OpenSSH + `docker run` on every latency figure (true, prompt, concurrency p95)";
  const why = unavailable(results, SSHD_DOCKER_RUN) ?? unavailable(results, CAPSULE);
  if (why !== undefined) return { goal, status: "not evaluated", detail: why, basis: "" };
  const pairs: [string, number | undefined][] = [
    [
      "`ssh host true` median",
      ratio(sshTrueMedian(results, CAPSULE), sshTrueMedian(results, SSHD_DOCKER_RUN)),
    ],
    [
      "prompt median",
      ratio(
        median(results.prompt[CAPSULE]?.samples ?? []),
        median(results.prompt[SSHD_DOCKER_RUN]?.samples ?? []),
      ),
    ],
  ];
  for (const run of results.concurrency[CAPSULE] ?? []) {
    const other = results.concurrency[SSHD_DOCKER_RUN]?.find((r) => r.sessions === run.sessions);
    const mine = run.ok === run.sessions ? summarize(run.latencies)?.p95 : undefined;
    const theirs = other && other.ok === other.sessions
      ? summarize(other.latencies)?.p95
      : undefined;
    pairs.push([`${run.sessions} sessions p95`, ratio(mine, theirs)]);
  }
  const basis = "capsule ÷ OpenSSH + docker run: " +
    pairs.map(([name, value]) => `${name} ${times(value)}`).join(", ") +
    " (a concurrency level counts only when every session of both succeeded)";
  if (pairs.some(([, value]) => value === undefined)) {
    return { goal, status: "not evaluated", detail: "a figure is missing or failed", basis };
  }
  const worst = Math.max(...pairs.map(([, value]) => value!));
  return {
    goal,
    status: worst < 1 ? "met" : "not met",
    detail: `slowest ratio ${times(worst)} vs target < ${times(1)}`,
    basis,
  };
}

/** capsule stdout throughput ≥ `limit` × `docker run -i busybox cat` through the CLI. */
function stdoutTarget(results: BenchResults, limit: number, goal: string): Verdict {
  const capsule = rates(results.stdout[CAPSULE])?.median;
  const docker = rates(results.stdout[DOCKER_CLI])?.median;
  return atLeast(
    goal,
    ratio(capsule, docker),
    limit,
    `median MiB/s: capsule ${capsule?.toFixed(1) ?? "–"}, Docker CLI ${docker?.toFixed(1) ?? "–"}`,
  );
}

/** With the warm pool: `ssh host true` ≤ 1.25 × SSH floor. */
function poolTarget(results: BenchResults): Verdict {
  const goal = "with the pool: `ssh host true` ≤ 1.25 × SSH floor";
  const why = unavailable(results, CAPSULE_POOL);
  if (why !== undefined) return { goal, status: "not evaluated", detail: why, basis: "" };
  const pool = sshTrueMedian(results, CAPSULE_POOL);
  const ssh = sshTrueMedian(results, SSH_FLOOR);
  return atMost(goal, ratio(pool, ssh), 1.25, `medians: pool ${ms(pool)}, SSH floor ${ms(ssh)}`);
}

/** capsule's speed over another SFTP target's on put, get and first listing (above 1: faster). */
function sftpSpeedRatios(results: BenchResults, other: string): [string, number | undefined][] {
  const mine = sftpFigures(results, SFTP_CAPSULE);
  const theirs = sftpFigures(results, other);
  return [
    ["put MiB/s", ratio(mine.put, theirs.put)],
    ["get MiB/s", ratio(mine.get, theirs.get)],
    ["first listing (median time, inverted)", ratio(theirs.listing, mine.listing)],
  ];
}

/** capsule's SFTP at least as fast as OpenSSH + docker run sftp-server on put, get and listing. */
function sftpTarget(results: BenchResults): Verdict {
  const goal = "capsule's SFTP at least as fast as OpenSSH + `docker run` sftp-server (a fresh " +
    "container per session) on put MiB/s, get MiB/s and time to first listing";
  const why = unavailable(results, SFTP_DOCKER_RUN) ?? unavailable(results, SFTP_CAPSULE);
  if (why !== undefined) return { goal, status: "not evaluated", detail: why, basis: "" };
  const show = (pairs: [string, number | undefined][]) =>
    pairs.map(([name, value]) => `${name} ${times(value)}`).join(", ");
  const pairs = sftpSpeedRatios(results, SFTP_DOCKER_RUN);
  const shared = unavailable(results, SFTP_DOCKER_EXEC) === undefined
    ? `; against OpenSSH + docker exec into one shared container (for reference): ${
      show(sftpSpeedRatios(results, SFTP_DOCKER_EXEC))
    }`
    : "";
  const basis = `capsule's speed ÷ OpenSSH + docker run's (above 1: capsule faster): ${
    show(pairs)
  }${shared}`;
  if (pairs.some(([, value]) => value === undefined)) {
    return { goal, status: "not evaluated", detail: "a figure is missing or failed", basis };
  }
  const worst = Math.min(...pairs.map(([, value]) => value!));
  return {
    goal,
    status: worst >= 1 ? "met" : "not met",
    detail: `slowest ratio ${times(worst)} vs target ≥ ${times(1)}`,
    basis,
  };
}

/** Issue 11: stdin ≥ 0.9 × the Docker CLI and ≥ 1.5 × OpenSSH + docker run. */
function stdinTarget(results: BenchResults): Verdict {
  const capsule = rates(results.stdin[CAPSULE])?.median;
  const docker = rates(results.stdin[DOCKER_CLI])?.median;
  const model = rates(results.stdin[SSHD_DOCKER_RUN])?.median;
  const goal = "capsule stdin throughput ≥ 0.9 × Docker CLI and ≥ 1.5 × OpenSSH + docker run";
  const basis = `median MiB/s: capsule ${capsule?.toFixed(1) ?? "–"}, Docker CLI ${
    docker?.toFixed(1) ?? "–"
  }, OpenSSH + docker run ${model?.toFixed(1) ?? "–"}`;
  const vsDocker = ratio(capsule, docker);
  const vsModel = ratio(capsule, model);
  if (vsDocker === undefined || vsModel === undefined) {
    return { goal, status: "not evaluated", detail: "a figure is missing or failed", basis };
  }
  return {
    goal,
    status: vsDocker >= 0.9 && vsModel >= 1.5 ? "met" : "not met",
    detail: `${times(vsDocker)} vs target ≥ ${times(0.9)}; ${times(vsModel)} vs target ≥ ${
      times(1.5)
    }`,
    basis,
  };
}

/** Issue 11: SFTP put and get ≥ 1.2 × the OpenSSH + docker exec model. */
function sftpThroughputTarget(results: BenchResults): Verdict {
  const goal = "capsule's SFTP put and get MiB/s ≥ 1.2 × OpenSSH + `docker exec` sftp-server";
  const why = unavailable(results, SFTP_DOCKER_EXEC) ?? unavailable(results, SFTP_CAPSULE);
  if (why !== undefined) return { goal, status: "not evaluated", detail: why, basis: "" };
  const pairs = sftpSpeedRatios(results, SFTP_DOCKER_EXEC).slice(0, 2);
  const basis = `capsule ÷ OpenSSH + docker exec: ${
    pairs.map(([name, value]) => `${name} ${times(value)}`).join(", ")
  }`;
  if (pairs.some(([, value]) => value === undefined)) {
    return { goal, status: "not evaluated", detail: "a figure is missing or failed", basis };
  }
  return atLeast(goal, Math.min(...pairs.map(([, value]) => value!)), 1.2, basis);
}

/** Every target, in the order of the brief. */
export function verdicts(results: BenchResults): Verdict[] {
  return [
    floorsTarget(results),
    fasterThanDockerRun(results),
    stdoutTarget(
      results,
      0.9,
      "capsule stdout throughput ≥ 0.9 × Docker CLI `docker run -i busybox cat`",
    ),
    stdoutTarget(
      results,
      0.7,
      "capsule stdout throughput ≥ 0.7 × Docker CLI (issue 11's step toward the 0.9× above)",
    ),
    stdinTarget(results),
    sftpThroughputTarget(results),
    poolTarget(results),
    sftpTarget(results),
    recordingTarget(results),
  ];
}
