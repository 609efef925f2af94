/** The two floors: the container lifecycle without SSH, and OpenSSH without containers. */
import { userInfo } from "node:os";
import { addTarget, type BenchContext } from "../context.ts";
import { measureLifecycle } from "../figures/lifecycle.ts";
import { measureSshTrue } from "../figures/ssh_true.ts";
import { progress } from "../progress.ts";
import { startSshd } from "../sshd_server.ts";
import { measureThroughput, stdinRun, stdoutRun } from "../figures/throughput.ts";
import { opensshCommand } from "../openssh_client.ts";
import { CONTAINER_FLOOR, SSH_FLOOR, SSH_FLOOR_CURVE25519, SSH_HOST } from "../targets.ts";

/** Container floor: create, attach, start, wait, remove of `true` through the Docker API. */
export async function containerFloorBlock(ctx: BenchContext): Promise<void> {
  addTarget(ctx, {
    id: CONTAINER_FLOOR,
    label: "container floor",
    description: "no SSH: create, attach, start, wait and remove of `/bin/sh -c true` in busybox " +
      "through the Docker API (dockerode), with capsule's container settings",
  });
  progress("container floor: API lifecycle");
  const figure = await measureLifecycle(ctx.runId, {
    runs: ctx.settings.trueRuns,
    warmupRuns: ctx.settings.warmupRuns,
  });
  ctx.results.sshTrue[CONTAINER_FLOOR] = figure.series;
  ctx.results.phases[CONTAINER_FLOOR] = figure.steps;
}

/** SSH floor: OpenSSH with `ForceCommand /bin/true`, with the client's default and curve25519 kex. */
export async function sshFloorBlock(ctx: BenchContext): Promise<void> {
  addTarget(ctx, {
    id: SSH_FLOOR,
    label: "SSH floor",
    description: "OpenSSH `sshd` with `ForceCommand /bin/true`: SSH alone, no container",
  });
  addTarget(ctx, {
    id: SSH_FLOOR_CURVE25519,
    label: "SSH floor, curve25519",
    description: "the same, the client pinned to `KexAlgorithms=curve25519-sha256`, the key " +
      "exchange it uses with capsule",
  });
  progress("SSH floor: starting sshd");
  const sshd = await startSshd({
    dir: `${ctx.workspace.dir}/sshd-floor`,
    authorizedKeysFile: ctx.workspace.authorizedKeysFile,
    forceCommand: "/bin/true",
  });
  ctx.cleanup.add("stop sshd (floor)", () => sshd.stop());
  if (!sshd.perSourcePenalties) {
    ctx.results.notes.push(
      "This sshd does not know `PerSourcePenalties` (OpenSSH before 9.8 has no penalties to turn off).",
    );
  }
  try {
    const login = {
      port: sshd.port,
      user: userInfo().username,
      identityFile: ctx.workspace.keyFile,
    };
    const runs = { runs: ctx.settings.trueRuns, warmupRuns: ctx.settings.warmupRuns };
    progress("SSH floor: ssh host true");
    ctx.results.sshTrue[SSH_FLOOR] = await measureSshTrue(login, runs);
    progress("SSH floor: ssh host true, curve25519");
    ctx.results.sshTrue[SSH_FLOOR_CURVE25519] = await measureSshTrue(login, {
      ...runs,
      extra: ["-o", "KexAlgorithms=curve25519-sha256"],
    });
  } finally {
    await sshd.stop();
  }
}

/** Throughput of OpenSSH alone: sshd running `cat` and `sha256sum` on the host, no container. */
export async function sshHostBlock(ctx: BenchContext): Promise<void> {
  addTarget(ctx, {
    id: SSH_HOST,
    label: "OpenSSH, no container",
    description: "OpenSSH `sshd` running the command on the host (coreutils `cat` and " +
      "`sha256sum`), for the throughput of SSH alone",
  });
  progress("OpenSSH, no container: starting sshd");
  const sshd = await startSshd({
    dir: `${ctx.workspace.dir}/sshd-host`,
    authorizedKeysFile: ctx.workspace.authorizedKeysFile,
  });
  ctx.cleanup.add("stop sshd (host)", () => sshd.stop());
  try {
    const login = {
      port: sshd.port,
      user: userInfo().username,
      identityFile: ctx.workspace.keyFile,
    };
    const ws = ctx.workspace;
    const runs = ctx.settings.throughputRuns;
    progress("OpenSSH, no container: stdout throughput");
    ctx.results.stdout[SSH_HOST] = await measureThroughput(
      stdoutRun,
      ["ssh", opensshCommand(login, `cat '${ws.blob}'`)],
      ws,
      runs,
    );
    progress("OpenSSH, no container: stdin throughput");
    ctx.results.stdin[SSH_HOST] = await measureThroughput(
      stdinRun,
      ["ssh", opensshCommand(login, "sha256sum")],
      ws,
      runs,
    );
  } finally {
    await sshd.stop();
  }
}
