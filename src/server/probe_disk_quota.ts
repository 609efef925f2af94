import type { Config } from "../config/mod.ts";
import { DockerRuntime } from "../runtime/docker_runtime.ts";

/** How long `check-config` waits for the engine. */
const PROBE_LIMIT_MS = 5_000;

/**
 * Asks the configured engine whether it has storage quotas for
 * `container.disk` (for `capsule check-config`).
 *
 * @returns whether it has, or `undefined` when no engine answers in time
 */
export async function probeDiskQuota(config: Config): Promise<boolean | undefined> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const late = new Promise<undefined>((resolve) => {
    timer = setTimeout(() => resolve(undefined), PROBE_LIMIT_MS);
  });
  const asked = (async () => {
    try {
      const runtime = await DockerRuntime.open(config.docker);
      await runtime.ping();
      return await runtime.enableDiskQuota(config.container.image);
    } catch {
      return undefined; // no engine, or no image to try with
    }
  })();
  try {
    return await Promise.race([asked, late]);
  } finally {
    clearTimeout(timer);
  }
}
