/** A few sentences that read this run's figures: where the time goes, what stands out. */
import type { BenchResults } from "../results.ts";
import { median, summarize } from "../stats.ts";
import {
  CAPSULE,
  CAPSULE_POOL,
  CONTAINER_FLOOR,
  DOCKER_CLI,
  DOCKER_CLI_DEFAULTS,
  SSH_FLOOR,
  SSH_HOST,
  SSHD_DOCKER_RUN,
} from "../targets.ts";
import { PHASES } from "../figures/capsule_phases.ts";
import { ms, rates, times } from "./format.ts";
import { sftpObservation } from "./sftp_section.ts";

const LOGIN = PHASES[0]!.name;
const START = PHASES[2]!.name;

function phase(results: BenchResults, id: string, name: string): number | undefined {
  return median(results.phases[id]?.[name] ?? []);
}

function cpu(results: BenchResults, id: string, name: string): number | undefined {
  const runs = (results.stdout[id] ?? []).filter((r) => r.ok);
  return median(runs.flatMap((r) => (r.cpuMs?.[name] !== undefined ? [r.cpuMs[name]] : [])));
}

function sshTrue(results: BenchResults, id: string): number | undefined {
  return median(results.sshTrue[id]?.samples ?? []);
}

/** One bullet per observation the figures support; none when they are missing. */
function observations(results: BenchResults): string[] {
  const out: string[] = [];
  const capsule = sshTrue(results, CAPSULE);
  const floor = sshTrue(results, CONTAINER_FLOOR);
  const sshFloor = sshTrue(results, SSH_FLOOR);
  const login = phase(results, CAPSULE, LOGIN);
  const start = phase(results, CAPSULE, START);
  if (
    capsule !== undefined && floor !== undefined && sshFloor !== undefined && login !== undefined
  ) {
    out.push(
      `\`ssh host true\` through capsule (${ms(capsule)}) costs the container lifecycle alone ` +
        `(${ms(floor)}) plus ${ms(capsule - floor)}; capsule's log puts key exchange and login ` +
        `at ${ms(login)}${
          start !== undefined ? ` and the container start at ${ms(start)}` : ""
        }. ` +
        `The OpenSSH floor (${ms(sshFloor)}) is larger than capsule's whole SSH part: per ` +
        "connection sshd re-executes itself, forks a privilege-separated child and runs the " +
        "command through the user's login shell, none of which capsule does.",
    );
  }
  const pool = sshTrue(results, CAPSULE_POOL);
  const poolStart = phase(results, CAPSULE_POOL, START);
  const modes = results.containerModes[CAPSULE_POOL];
  const poolP95 = summarize(results.sshTrue[CAPSULE_POOL]?.samples ?? [])?.p95;
  if (pool !== undefined && poolStart !== undefined && start !== undefined && modes) {
    const warm = modes.pool ?? 0;
    const all = Object.values(modes).reduce((a, b) => a + b, 0);
    const tail = warm < all
      ? `${warm} of ${all} back-to-back sessions found a warm container; the others found the ` +
        "pool empty (it refills in the background, two containers at a time) and started a fresh one, the slow " +
        `tail (p95 ${ms(poolP95)}).`
      : `All ${all} back-to-back sessions found a warm container (p95 ${ms(poolP95)}).`;
    out.push(
      `The warm pool takes the container start off the login (session request → process ` +
        `started: ${ms(poolStart)} against ${ms(start)}), for a median of ${ms(pool)}. ${tail}`,
    );
  }
  const out1 = rates(results.stdout[CAPSULE])?.median;
  const sshAlone = rates(results.stdout[SSH_HOST])?.median;
  const docker = rates(results.stdout[DOCKER_CLI])?.median;
  const capsuleCpu = cpu(results, CAPSULE, "capsule");
  const transfer = median((results.stdout[CAPSULE] ?? []).filter((r) => r.ok).map((r) => r.ms));
  if (out1 !== undefined && docker !== undefined && capsuleCpu !== undefined && transfer) {
    out.push(
      `stdout: capsule moves ${out1.toFixed(0)} MiB/s against ${docker.toFixed(0)} MiB/s for ` +
        `the Docker CLI. Its process (SSH through ssh2, a JavaScript implementation) used ` +
        `${ms(capsuleCpu)} of CPU in a ${ms(transfer)} transfer, on 2 cores that also run the ` +
        "client, dockerd and the bench's hashing; `dockerd` used " +
        `${ms(cpu(results, CAPSULE, "dockerd"))} with capsule and ` +
        `${ms(cpu(results, DOCKER_CLI, "dockerd"))} with the Docker CLI.` +
        (sshAlone !== undefined
          ? ` OpenSSH alone, with no container, moves ${sshAlone.toFixed(0)} MiB/s here.`
          : ""),
    );
  }
  const defaults = rates(results.stdout[DOCKER_CLI_DEFAULTS])?.median;
  if (defaults !== undefined && docker !== undefined) {
    out.push(
      `Docker's default json-file log driver writes all output to disk: with it, \`docker run\` ` +
        `moves ${defaults.toFixed(0)} MiB/s out (${
          times(defaults / docker)
        } of the same run with ` +
        "`--log-driver none`, capsule's setting). A hand-made OpenSSH + docker run set-up " +
        "without that flag pays this on every byte a session prints.",
    );
  }
  const top = Math.max(...results.settings.concurrency);
  const mine = results.concurrency[CAPSULE]?.find((r) => r.sessions === top);
  const theirs = results.concurrency[SSHD_DOCKER_RUN]?.find((r) => r.sessions === top);
  if (mine && theirs) {
    const used = (run: typeof mine, name: string) =>
      run.cpuMs?.[name] !== undefined ? ms(run.cpuMs[name]) : "–";
    out.push(
      `${top} sessions at once: capsule ${mine.ok}/${top} succeeded, p50 ` +
        `${ms(summarize(mine.latencies)?.median)}, p95 ${ms(summarize(mine.latencies)?.p95)}; ` +
        `OpenSSH + docker run ${theirs.ok}/${top}, p50 ${
          ms(summarize(theirs.latencies)?.median)
        }, ` +
        `p95 ${ms(summarize(theirs.latencies)?.p95)}. CPU used during the run: capsule ` +
        `${used(mine, "capsule")} and dockerd ${used(mine, "dockerd")}; with the docker run ` +
        `model, dockerd ${used(theirs, "dockerd")} (plus a Docker CLI process per session).`,
    );
  }
  const sftp = sftpObservation(results);
  if (sftp !== undefined) out.push(sftp);
  return out;
}

/** The "Reading the figures" section, or nothing when no observation holds. */
export function reading(results: BenchResults): string {
  const lines = observations(results);
  if (lines.length === 0) return "";
  return `## Reading the figures\n\n${lines.map((l) => `- ${l}`).join("\n")}`;
}
