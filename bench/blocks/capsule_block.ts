/** capsule, one variant at a time: memory first (while idle), then every session figure. */
import { type CapsuleServer, startCapsule } from "../capsule_server.ts";
import { addTarget, type BenchContext } from "../context.ts";
import { BENCH_INSTANCE_PREFIX, waitForContainersGone } from "../docker_cli.ts";
import { BLOB_TARGET } from "../docker_run_model.ts";
import { measureMemory } from "../figures/memory.ts";
import { progress } from "../progress.ts";
import { rssKiB } from "../rss.ts";
import { sleep } from "../sleep.ts";
import type { CapsuleVariant } from "../targets.ts";
import { sessionFigures } from "./session_figures.ts";

const USER = "bench";

/** Starts one capsule variant, measures it, stops it and checks it left no container. */
export async function capsuleBlock(ctx: BenchContext, variant: CapsuleVariant): Promise<void> {
  const target = addTarget(ctx, {
    id: variant.id,
    label: variant.label,
    description: variant.description,
  });
  const instance = `${BENCH_INSTANCE_PREFIX}${ctx.runId}-${variant.id}`;
  progress(`${variant.label}: starting`);
  const started = await startCapsule({
    root: ctx.root,
    dir: `${ctx.workspace.dir}/${variant.id}`,
    instance,
    user: USER,
    publicKey: ctx.workspace.publicKey,
    blob: ctx.workspace.blob,
    blobTarget: BLOB_TARGET,
    extra: variant.config,
  });
  if (!started.ok) {
    target.availability = { ok: false, reason: started.reason };
    progress(`${variant.label}: not available: ${started.reason}`);
    return;
  }
  const server = started.server;
  ctx.cleanup.add(`stop ${variant.label}`, async () => void await server.stop());
  const containerLabels = [`io.capsule.instance=${instance}`];
  try {
    await sleep(2_000);
    const idle = await rssKiB(server.pid);
    if (idle === undefined) throw new Error(`${variant.label} exited right after starting`);
    progress(`${variant.label}: memory with ${ctx.settings.idleConnections} idle connections`);
    ctx.results.memory[variant.id] = await measureMemory(
      { port: server.port, user: USER, privateKey: ctx.workspace.privateKey },
      server.pid,
      idle,
      ctx.settings.idleConnections,
    );
    await sessionFigures(ctx, {
      id: variant.id,
      label: variant.label,
      port: server.port,
      user: USER,
      containerLabels,
      warmContainers: variant.warmContainers,
      logs: server.logs,
      rssPid: server.pid,
    });
  } finally {
    await finishCapsule(ctx, variant.label, server, containerLabels);
  }
}

/**
 * Stops a capsule of the bench and notes what went wrong: a non-zero exit,
 * containers left behind, warnings and errors in its log.
 */
export async function finishCapsule(
  ctx: BenchContext,
  label: string,
  server: CapsuleServer,
  containerLabels: readonly string[],
): Promise<void> {
  const code = await server.stop();
  if (code !== 0) {
    ctx.results.notes.push(`${label} exited with status ${code} on SIGTERM.`);
  }
  const left = await waitForContainersGone(containerLabels, { timeoutMs: 30_000 });
  if (left > 0) {
    ctx.results.notes.push(
      `${label} left ${left} container(s) behind after it stopped (removed by the bench).`,
    );
  }
  const problems = server.logs.filter((r) => r.level === "error" || r.level === "warn");
  if (problems.length > 0) {
    const events = new Map<string, number>();
    for (const r of problems) {
      const key = `${r.level} ${String(r.event)}`;
      events.set(key, (events.get(key) ?? 0) + 1);
    }
    ctx.results.notes.push(
      `${label} logged ${
        [...events].map(([event, n]) => `${n}× \`${event}\``).join(", ")
      } during the run.`,
    );
  }
}
