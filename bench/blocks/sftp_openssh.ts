/**
 * The OpenSSH SFTP targets: `internal-sftp` on the host, and OpenSSH wired by
 * hand to capsule's static sftp-server through the Docker CLI, in a fresh
 * container per session or in one shared container.
 */
import { userInfo } from "node:os";
import {
  BENCH_LABEL,
  dockerCliPath,
  removeContainers,
  waitForContainersGone,
} from "../docker_cli.ts";
import { firstLine, runProcess } from "../process.ts";
import { progress } from "../progress.ts";
import type { TargetInfo } from "../results.ts";
import { SFTP_SERVER, sftpContainerOptions, subsystemScript } from "../sftp_model.ts";
import { startSshd } from "../sshd_server.ts";
import type { SftpPaths } from "../figures/sftp.ts";
import { dockerWatch, measureTarget, type SftpRun } from "./sftp_run.ts";

/** Starts an sshd whose `Subsystem sftp` is `subsystem`, measures it as `target`, stops it. */
async function measureThroughSshd(
  run: SftpRun,
  target: TargetInfo,
  options: {
    subsystem: string;
    paths: SftpPaths;
    watched: Record<string, number>;
  },
): Promise<void> {
  const { ctx } = run;
  progress(`${target.label}: starting sshd`);
  const sshd = await startSshd({
    dir: `${ctx.workspace.dir}/sshd-${target.id}`,
    authorizedKeysFile: ctx.workspace.authorizedKeysFile,
    sftpSubsystem: options.subsystem,
  });
  ctx.cleanup.add(`stop sshd (${target.label})`, () => sshd.stop());
  try {
    const login = {
      port: sshd.port,
      user: userInfo().username,
      identityFile: ctx.workspace.keyFile,
    };
    await measureTarget(run, target, login, options);
  } finally {
    await sshd.stop();
  }
}

async function writeScript(path: string, args: readonly string[]): Promise<string> {
  await Deno.writeTextFile(
    path,
    subsystemScript({
      docker: await dockerCliPath(),
      args,
      dockerHost: Deno.env.get("DOCKER_HOST"),
    }),
  );
  await Deno.chmod(path, 0o755);
  return path;
}

/** The floor: OpenSSH's `internal-sftp` on the host. */
export async function hostTarget(run: SftpRun, target: TargetInfo): Promise<void> {
  await measureThroughSshd(run, target, {
    subsystem: "internal-sftp",
    paths: run.onHost,
    watched: {},
  });
}

/** OpenSSH + `docker run --rm -i ... sftp-server`: a fresh container per SFTP session. */
export async function dockerRunTarget(run: SftpRun, target: TargetInfo): Promise<void> {
  const { ctx } = run;
  const script = await writeScript(`${ctx.workspace.dir}/sftp-docker-run.sh`, [
    "run",
    "--rm",
    "-i",
    ...sftpContainerOptions(run.mounts),
    "busybox",
    SFTP_SERVER,
  ]);
  try {
    await measureThroughSshd(run, target, {
      subsystem: script,
      paths: run.inContainer,
      watched: await dockerWatch(),
    });
  } finally {
    const left = await waitForContainersGone([`${BENCH_LABEL}=${ctx.runId}`], {
      timeoutMs: 30_000,
    });
    if (left > 0) {
      ctx.results.notes.push(
        `${target.label} left ${left} container(s) behind after its sessions (removed by the bench).`,
      );
    }
  }
}

/** OpenSSH + `docker exec -i <container> sftp-server` into one container started beforehand. */
export async function dockerExecTarget(run: SftpRun, target: TargetInfo): Promise<void> {
  const { ctx } = run;
  const started = await runProcess(await dockerCliPath(), [
    "run",
    "-d",
    "--rm",
    ...sftpContainerOptions(run.mounts),
    "busybox",
    "sleep",
    "2147483647",
  ], { timeoutMs: 60_000 });
  const id = started.stdout.trim();
  if (started.code !== 0 || id === "") {
    throw new Error(`cannot start the shared container: ${firstLine(started.stderr)}`);
  }
  const remove = () => removeContainers([id]).then(() => {});
  ctx.cleanup.add(`remove the shared SFTP container`, remove);
  try {
    const script = await writeScript(`${ctx.workspace.dir}/sftp-docker-exec.sh`, [
      "exec",
      "-i",
      id,
      SFTP_SERVER,
    ]);
    await measureThroughSshd(run, target, {
      subsystem: script,
      paths: run.inContainer,
      watched: await dockerWatch(),
    });
  } finally {
    await remove();
  }
}
