/**
 * `deno task bench`: measures capsule against its alternatives on this
 * machine, in one run, and writes BENCHMARKS.md.
 *
 * Order: the container floor, the SSH floor, OpenSSH without containers
 * (throughput), the Docker CLI baseline, each capsule variant, the recording
 * cost (PTY stdout, recording off and on), OpenSSH +
 * docker run, then SFTP (OpenSSH on the host, capsule, OpenSSH + docker), then
 * `ssh -L` (OpenSSH on the host, capsule), then the first prompt with an
 * image pulled from a registry at login and with it present.
 * One target runs at a time; every server and container is cleaned up,
 * whatever happens. `--only` runs some of these parts.
 */
import { capsuleBlock } from "./blocks/capsule_block.ts";
import { dockerCliBlock } from "./blocks/docker_cli_block.ts";
import { dockerRunBlock } from "./blocks/docker_run_block.ts";
import { recordingBlock } from "./blocks/recording_block.ts";
import { containerFloorBlock, sshFloorBlock, sshHostBlock } from "./blocks/floors.ts";
import { pullBlock } from "./blocks/pull_block.ts";
import { sftpBlock } from "./blocks/sftp_block.ts";
import { tunnelBlock } from "./blocks/tunnel_block.ts";
import { Cleanup } from "./cleanup.ts";
import type { BenchContext } from "./context.ts";
import { benchContainers, engineDescription, removeContainers } from "./docker_cli.ts";
import { describeMachine } from "./machine.ts";
import { runProcess } from "./process.ts";
import { progress } from "./progress.ts";
import { renderMarkdown } from "./report/markdown.ts";
import { renderSummary } from "./report/summary.ts";
import { emptyResults } from "./results.ts";
import { parseSettings, type Settings, usage } from "./settings.ts";
import { sftpTools } from "./sftp_model.ts";
import { ensurePrivsepDir, findSshd } from "./sshd_server.ts";
import { CAPSULE_VARIANTS } from "./targets.ts";
import { createWorkspace } from "./workspace.ts";
import { MINBASE_IMAGE } from "../tests/helpers/test_registry.ts";

const ROOT = new URL("../", import.meta.url).pathname;

function message(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

/** One part of a run: its `--only` name, its label in messages, and what it does. */
interface Block {
  name: string;
  label: string;
  run: (ctx: BenchContext) => Promise<void>;
}

/** Every part of a run, in order. */
const BLOCKS: readonly Block[] = [
  { name: "container-floor", label: "container floor", run: containerFloorBlock },
  { name: "ssh-floor", label: "SSH floor", run: sshFloorBlock },
  { name: "ssh-host", label: "OpenSSH, no container", run: sshHostBlock },
  { name: "docker-cli", label: "Docker CLI", run: dockerCliBlock },
  ...CAPSULE_VARIANTS.map((v): Block => ({
    name: v.id,
    label: v.label,
    run: (ctx) => capsuleBlock(ctx, v),
  })),
  { name: "recording", label: "recording cost", run: recordingBlock },
  { name: "docker-run", label: "OpenSSH + docker run", run: dockerRunBlock },
  { name: "sftp", label: "SFTP", run: sftpBlock },
  { name: "tunnel", label: "ssh -L tunnel", run: tunnelBlock },
  { name: "pull", label: "image pull", run: pullBlock },
];

/** Fails with a clear line when something the bench needs is missing. */
async function preflight(blocks: readonly Block[]): Promise<void> {
  await engineDescription();
  const image = await runProcess("docker", ["image", "inspect", "busybox:latest"]);
  if (image.code !== 0) {
    throw new Error("the busybox image is missing: run scripts/setup.sh --test");
  }
  for (const tool of ["ssh", "ssh-keygen", "ps", "pgrep"]) {
    const found = await runProcess("/bin/sh", ["-c", `command -v ${tool}`]);
    if (found.code !== 0) throw new Error(`${tool} is missing: run scripts/setup.sh --test`);
  }
  await findSshd();
  if (blocks.some((b) => b.name === "sftp")) {
    const found = await runProcess("/bin/sh", ["-c", "command -v sftp"]);
    if (found.code !== 0) throw new Error("sftp is missing: run scripts/setup.sh --test");
  }
  if (blocks.some((b) => b.name === "pull")) {
    for (const tool of ["docker-registry", "htpasswd"]) {
      const found = await runProcess("/bin/sh", ["-c", `command -v ${tool}`]);
      if (found.code !== 0) throw new Error(`${tool} is missing: run scripts/setup.sh --test`);
    }
    const minbase = await runProcess("docker", ["image", "inspect", MINBASE_IMAGE]);
    if (minbase.code !== 0) {
      throw new Error(`${MINBASE_IMAGE} is missing: run scripts/setup.sh --test`);
    }
  }
  // The SFTP models run capsule's sftp-server; the tunnel's servers, its socat.
  if (blocks.some((b) => b.name === "sftp" || b.name === "tunnel")) await sftpTools();
}

async function run(settings: Settings): Promise<number> {
  const started = performance.now();
  const results = emptyResults(settings);
  const cleanup = new Cleanup();
  const runId = crypto.randomUUID().slice(0, 8);
  const only = settings.only;
  const blocks = only === undefined ? BLOCKS : BLOCKS.filter((b) => only.includes(b.name));

  let interrupted = false;
  const onSignal = () => {
    if (interrupted) return;
    interrupted = true;
    progress("interrupted: stopping servers and removing containers");
    cleanup.run().finally(() => Deno.exit(130));
  };
  Deno.addSignalListener("SIGINT", onSignal);
  Deno.addSignalListener("SIGTERM", onSignal);

  try {
    await preflight(blocks);
  } catch (error) {
    console.error(`bench: ${message(error)}`);
    return 1;
  }
  try {
    results.machine = await describeMachine(ROOT);
    results.cleanup.before = await removeContainers(await benchContainers());
    if (await ensurePrivsepDir()) {
      cleanup.add("remove /run/sshd", () => Deno.remove("/run/sshd").catch(() => {}));
    }
    progress(`making the workspace (a ${settings.blobBytes / 2 ** 20} MiB random blob)`);
    const workspace = await createWorkspace(settings.blobBytes);
    cleanup.add("remove the workspace", () => Deno.remove(workspace.dir, { recursive: true }));
    // Runs after every server is stopped (steps run newest first).
    cleanup.add("remove leftover containers", async () => {
      results.cleanup.atEnd = await removeContainers(await benchContainers());
    });
    const ctx: BenchContext = { root: ROOT, runId, settings, results, workspace, cleanup };
    for (const block of blocks) {
      try {
        await block.run(ctx);
      } catch (error) {
        results.errors.push(`${block.label}: ${message(error)}`);
        progress(`${block.label} failed: ${message(error)}`);
      }
    }
  } catch (error) {
    results.errors.push(message(error));
  } finally {
    progress("cleaning up");
    results.cleanup.errors = await cleanup.run();
    Deno.removeSignalListener("SIGINT", onSignal);
    Deno.removeSignalListener("SIGTERM", onSignal);
  }
  results.durationMs = performance.now() - started;

  if (settings.out !== undefined) {
    await Deno.writeTextFile(settings.out, renderMarkdown(results));
    // The report lives in the repository, which `deno fmt --check` covers.
    await runProcess(Deno.execPath(), [
      "fmt",
      "--quiet",
      "--config",
      `${ROOT}deno.json`,
      settings.out,
    ])
      .catch(() => undefined);
  }
  console.log(renderSummary(results));
  console.log(
    settings.out !== undefined
      ? `\nReport written to ${settings.out}`
      : "\nNo report written (a partial run; --out FILE writes one)",
  );
  return 0;
}

async function main(): Promise<number> {
  let settings: Settings | undefined;
  try {
    settings = parseSettings(Deno.args, { root: ROOT, parts: BLOCKS.map((b) => b.name) });
  } catch (error) {
    console.error(`bench: ${message(error)}\n\n${usage(BLOCKS.map((b) => b.name))}`);
    return 2;
  }
  if (settings === undefined) {
    console.log(usage(BLOCKS.map((b) => b.name)));
    return 0;
  }
  return await run(settings);
}

if (import.meta.main) Deno.exit(await main());
