/**
 * Images from a registry: capsule's time to the first prompt when the
 * session's image must first be pulled (from Debian's `docker-registry` on
 * loopback, with a login) and when it is already there. The image is Debian's
 * minbase (about 30 MB compressed); between cold runs it is removed again.
 */
import { startCapsule } from "../capsule_server.ts";
import { addTarget, type BenchContext } from "../context.ts";
import { BENCH_INSTANCE_PREFIX, waitForContainersGone } from "../docker_cli.ts";
import { promptOnce } from "../figures/prompt.ts";
import { progress } from "../progress.ts";
import type { Series } from "../results.ts";
import { PULL_COLD, PULL_PRESENT } from "../targets.ts";
import { removeImage, TestRegistry } from "../../tests/helpers/test_registry.ts";
import { finishCapsule } from "./capsule_block.ts";
import { message } from "./sftp_run.ts";

const CAPSULE_USER = "bench";

/** Runs `once` `runs` times, with `before` ahead of each (untimed). */
async function series(
  runs: number,
  once: () => Promise<number>,
  before: () => Promise<void>,
): Promise<Series> {
  const result: Series = { attempts: 0, samples: [], failures: [] };
  for (let i = 0; i < runs; i++) {
    await before();
    result.attempts++;
    try {
      result.samples.push(await once());
    } catch (error) {
      result.failures.push(message(error));
    }
  }
  return result;
}

/** Measures the first prompt with the image pulled first, then with it present. */
export async function pullBlock(ctx: BenchContext): Promise<void> {
  const { settings, workspace: ws } = ctx;
  const cold = addTarget(ctx, {
    id: PULL_COLD,
    label: "capsule, image pulled first",
    description: "capsule whose user's image (Debian minbase, ~30 MB compressed) is on a " +
      "private registry on loopback (`docker-registry`, htpasswd) and not on the engine",
  });
  const present = addTarget(ctx, {
    id: PULL_PRESENT,
    label: "capsule, image present",
    description: "the same capsule and image, already on the engine",
  });
  const password = crypto.randomUUID();
  progress("pull: starting docker-registry and pushing the image");
  const registry = await TestRegistry.start("bench", password);
  ctx.cleanup.add("stop docker-registry", () => registry.stop());
  const image = await registry.pushFresh(`capsule-bench-${ctx.runId}`, "1");
  ctx.cleanup.add("remove the pulled image", () => removeImage(image).catch(() => {}));
  const instance = `${BENCH_INSTANCE_PREFIX}${ctx.runId}-pull`;
  const started = await startCapsule({
    root: ctx.root,
    dir: `${ws.dir}/pull`,
    instance,
    user: CAPSULE_USER,
    publicKey: ws.publicKey,
    blob: ws.blob,
    blobTarget: "/blob",
    extra: {
      docker: {
        prePull: false,
        registries: { [registry.host]: { username: "bench", password } },
      },
      // The user's image, not the global one: start-up (the tools volume) uses busybox.
      users: { [CAPSULE_USER]: { container: { image } } },
    },
  });
  if (!started.ok) {
    for (const t of [cold, present]) t.availability = { ok: false, reason: started.reason };
    return;
  }
  const server = started.server;
  ctx.cleanup.add("stop capsule (pull)", async () => void await server.stop());
  const login = { port: server.port, user: CAPSULE_USER, identityFile: ws.keyFile };
  const labels = [`io.capsule.instance=${instance}`];
  try {
    progress(`${cold.label}: ${settings.promptRuns} prompts, the image removed before each`);
    ctx.results.pull[PULL_COLD] = await series(
      settings.promptRuns,
      () => promptOnce(login),
      async () => {
        // The last session's container must be gone for its image to go.
        await waitForContainersGone(labels, { timeoutMs: 30_000 });
        await removeImage(image);
      },
    );
    progress(`${present.label}: ${settings.promptRuns} prompts`);
    ctx.results.pull[PULL_PRESENT] = await series(
      settings.promptRuns,
      () => promptOnce(login),
      () => Promise.resolve(),
    );
  } catch (error) {
    ctx.results.errors.push(`pull: ${message(error)}`);
  } finally {
    await finishCapsule(ctx, "capsule (pull)", server, labels);
  }
}
