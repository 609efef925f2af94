/**
 * SFTP, side by side: OpenSSH's own SFTP on the host (the floor), capsule,
 * and OpenSSH wired by hand to capsule's static sftp-server in a busybox
 * container: a fresh container per session (`docker run --rm -i`), and one
 * shared container (`docker exec -i`). One target at a time.
 */
import { startCapsule } from "../capsule_server.ts";
import { addTarget, type BenchContext } from "../context.ts";
import { BENCH_INSTANCE_PREFIX } from "../docker_cli.ts";
import { BLOB_TARGET } from "../docker_run_model.ts";
import { makeSftpDir } from "../figures/sftp.ts";
import { progress } from "../progress.ts";
import type { TargetInfo } from "../results.ts";
import { SFTP_DIR_TARGET, sftpTools } from "../sftp_model.ts";
import { toolsVolumeName } from "../../src/tools/mod.ts";
import { SFTP_CAPSULE, SFTP_DOCKER_EXEC, SFTP_DOCKER_RUN, SFTP_HOST } from "../targets.ts";
import { finishCapsule } from "./capsule_block.ts";
import { dockerExecTarget, dockerRunTarget, hostTarget } from "./sftp_openssh.ts";
import { dockerWatch, measureTarget, message, type SftpRun } from "./sftp_run.ts";

const CAPSULE_USER = "bench";

/** The targets of this block, in the order they run. */
const TARGETS: readonly (Omit<TargetInfo, "availability"> & {
  measure: (run: SftpRun, target: TargetInfo) => Promise<void>;
})[] = [
  {
    id: SFTP_HOST,
    label: "SFTP: OpenSSH, no container",
    description: "OpenSSH `sshd` with `Subsystem sftp internal-sftp`, on the host: the SFTP " +
      "floor",
    measure: hostTarget,
  },
  {
    id: SFTP_CAPSULE,
    label: "SFTP: capsule",
    description: "capsule (busybox, `container.mode: session`) serving the `sftp` subsystem in " +
      "a fresh container per session with its static sftp-server",
    measure: capsuleTarget,
  },
  {
    id: SFTP_DOCKER_RUN,
    label: "SFTP: OpenSSH + docker run",
    description: "OpenSSH `sshd` whose `Subsystem sftp` script runs `docker run --rm -i " +
      "<capsule's settings> busybox /.capsule/bin/sftp-server` (capsule's static sftp-server " +
      "bind-mounted read-only): a fresh container per SFTP session, as capsule's session mode",
    measure: dockerRunTarget,
  },
  {
    id: SFTP_DOCKER_EXEC,
    label: "SFTP: OpenSSH + docker exec",
    description: "OpenSSH `sshd` whose `Subsystem sftp` script runs `docker exec -i <id> " +
      "/.capsule/bin/sftp-server` in one busybox container started before the run with the same " +
      "settings and mounts, shared by every session (no container start per session; for reference)",
    measure: dockerExecTarget,
  },
];

/** capsule, busybox, session mode: its own sftp-server in a fresh container per session. */
async function capsuleTarget(run: SftpRun, target: TargetInfo): Promise<void> {
  const { ctx, mounts } = run;
  const instance = `${BENCH_INSTANCE_PREFIX}${ctx.runId}-sftp`;
  progress(`${target.label}: starting`);
  const started = await startCapsule({
    root: ctx.root,
    dir: `${ctx.workspace.dir}/${SFTP_CAPSULE}`,
    instance,
    user: CAPSULE_USER,
    publicKey: ctx.workspace.publicKey,
    blob: mounts.blob,
    blobTarget: BLOB_TARGET,
    extra: {
      container: {
        image: "busybox",
        mode: "session",
        mounts: [
          { source: mounts.blob, target: BLOB_TARGET, readOnly: true },
          { source: mounts.sftpDir, target: SFTP_DIR_TARGET, readOnly: false },
        ],
      },
    },
  });
  if (!started.ok) {
    target.availability = { ok: false, reason: started.reason };
    progress(`${target.label}: not available: ${started.reason}`);
    return;
  }
  const server = started.server;
  ctx.cleanup.add(`stop ${target.label}`, async () => void await server.stop());
  try {
    const login = { port: server.port, user: CAPSULE_USER, identityFile: ctx.workspace.keyFile };
    await measureTarget(run, target, login, {
      paths: run.inContainer,
      watched: { capsule: server.pid, ...await dockerWatch() },
    });
  } finally {
    await finishCapsule(ctx, target.label, server, [`io.capsule.instance=${instance}`]);
  }
}

/** Measures SFTP on every target, one after another; one target failing does not stop the rest. */
export async function sftpBlock(ctx: BenchContext): Promise<void> {
  const tools = await sftpTools();
  const ws = ctx.workspace;
  const sftpDir = `${ws.dir}/sftp`;
  await makeSftpDir(sftpDir);
  const download = `${ws.dir}/sftp-download.bin`;
  const run: SftpRun = {
    ctx,
    mounts: { runId: ctx.runId, blob: ws.blob, sftpDir, toolsDir: tools.dir },
    inContainer: {
      remoteDir: SFTP_DIR_TARGET,
      hostDir: sftpDir,
      remoteBlob: BLOB_TARGET,
      download,
    },
    onHost: { remoteDir: sftpDir, hostDir: sftpDir, remoteBlob: ws.blob, download },
  };
  ctx.results.notes.push(
    `SFTP: capsule's static sftp-server from the tools build \`${tools.dir}\`. capsule copies ` +
      `it once per engine into the volume \`${toolsVolumeName(tools.hash)}\`, its cache, which ` +
      "the bench leaves in place (other capsule servers of the engine use it).",
  );
  for (const { measure, ...info } of TARGETS) {
    const target = addTarget(ctx, info);
    try {
      await measure(run, target);
    } catch (error) {
      ctx.results.errors.push(`${target.label}: ${message(error)}`);
      progress(`${target.label} failed: ${message(error)}`);
    }
  }
}
