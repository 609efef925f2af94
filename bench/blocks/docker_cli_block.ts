/** The throughput baseline: `docker run --rm -i busybox ...` through the Docker CLI, no SSH. */
import { addTarget, type BenchContext } from "../context.ts";
import { BLOB_TARGET, dockerRunArgs } from "../docker_run_model.ts";
import { measureThroughput, stdinRun, stdoutRun } from "../figures/throughput.ts";
import { dockerdPid } from "../cpu.ts";
import { progress } from "../progress.ts";
import { DOCKER_CLI, DOCKER_CLI_DEFAULTS } from "../targets.ts";

/** stdout and stdin throughput of the Docker CLI, with capsule's settings and with Docker's. */
export async function dockerCliBlock(ctx: BenchContext): Promise<void> {
  const ws = ctx.workspace;
  const runs = ctx.settings.throughputRuns;
  const dockerd = await dockerdPid();
  const watched = dockerd !== undefined ? { dockerd } : {};
  const variants = [
    {
      id: DOCKER_CLI,
      label: "Docker CLI",
      description: "`docker run --rm -i` with capsule's container settings, no SSH " +
        "(throughput baseline)",
      capsuleFlags: true,
    },
    {
      id: DOCKER_CLI_DEFAULTS,
      label: "Docker CLI, Docker defaults",
      description: "`docker run --rm -i --network none` with Docker's other defaults " +
        "(json-file log), for reference",
      capsuleFlags: false,
    },
  ];
  for (const variant of variants) {
    addTarget(ctx, variant);
    const args = dockerRunArgs(ctx.runId, ws.blob, variant.capsuleFlags);
    progress(`${variant.label}: stdout throughput`);
    ctx.results.stdout[variant.id] = await measureThroughput(
      stdoutRun,
      ["docker", [...args, "busybox", "cat", BLOB_TARGET]],
      ws,
      runs,
      watched,
    );
    progress(`${variant.label}: stdin throughput`);
    ctx.results.stdin[variant.id] = await measureThroughput(
      stdinRun,
      ["docker", [...args, "busybox", "sha256sum"]],
      ws,
      runs,
      watched,
    );
  }
}
