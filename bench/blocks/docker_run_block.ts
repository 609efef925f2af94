/** The hand-made alternative: OpenSSH whose ForceCommand runs `docker run --rm -i busybox ...`. */
import { userInfo } from "node:os";
import { addTarget, type BenchContext } from "../context.ts";
import { BENCH_LABEL, dockerCliPath } from "../docker_cli.ts";
import { forceCommandScript } from "../docker_run_model.ts";
import { progress } from "../progress.ts";
import { startSshd } from "../sshd_server.ts";
import { SSHD_DOCKER_RUN } from "../targets.ts";
import { sessionFigures } from "./session_figures.ts";

/** Starts sshd with the docker run ForceCommand, measures it and stops it. */
export async function dockerRunBlock(ctx: BenchContext): Promise<void> {
  addTarget(ctx, {
    id: SSHD_DOCKER_RUN,
    label: "OpenSSH + docker run",
    description: "OpenSSH `sshd` whose ForceCommand script runs `docker run --rm -i [-t] busybox " +
      'sh -c "$SSH_ORIGINAL_COMMAND"` (or `sh`), with capsule\'s container settings',
  });
  const script = `${ctx.workspace.dir}/docker-run-session.sh`;
  await Deno.writeTextFile(
    script,
    forceCommandScript({
      docker: await dockerCliPath(),
      runId: ctx.runId,
      blob: ctx.workspace.blob,
      dockerHost: Deno.env.get("DOCKER_HOST"),
    }),
  );
  await Deno.chmod(script, 0o755);
  progress("OpenSSH + docker run: starting sshd");
  const sshd = await startSshd({
    dir: `${ctx.workspace.dir}/sshd-docker-run`,
    authorizedKeysFile: ctx.workspace.authorizedKeysFile,
    forceCommand: script,
  });
  ctx.cleanup.add("stop sshd (docker run)", () => sshd.stop());
  try {
    await sessionFigures(ctx, {
      id: SSHD_DOCKER_RUN,
      label: "OpenSSH + docker run",
      port: sshd.port,
      user: userInfo().username,
      containerLabels: [`${BENCH_LABEL}=${ctx.runId}`],
      warmContainers: 0,
    });
  } finally {
    await sshd.stop();
  }
}
