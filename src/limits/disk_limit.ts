import type { Config } from "../config/mod.ts";
import { resolveContainer } from "../config/mod.ts";
import { describeError } from "../errors/mod.ts";
import type { Logger } from "../log/mod.ts";
import type { ContainerRuntime } from "../runtime/mod.ts";
import { formatBytes } from "./format_bytes.ts";

/**
 * How `container.disk` is enforced: `quota`, the engine's storage quota
 * (exact: a write past it fails); `watch`, a check of each container's
 * writable layer every couple of seconds (the session ends once it is over);
 * `none`, when no profile sets a limit.
 */
export type DiskMechanism = "quota" | "watch" | "none";

/** Every container profile of a config: the global one, each named profile, and each user's. */
function profiles(config: Config) {
  return [
    ...Object.keys(config.profiles).map((profile) =>
      resolveContainer(config, undefined, { profile })
    ),
    ...[undefined, ...Object.keys(config.users)].map((user) => resolveContainer(config, user)),
  ];
}

/**
 * Decides how `container.disk` is enforced on this engine, turns the quota
 * on where the engine has one, and logs the decision (`disk.limit`).
 */
export async function chooseDiskLimit(
  runtime: ContainerRuntime,
  config: Config,
  logger: Logger,
): Promise<DiskMechanism> {
  if (!needsDiskWatch(config)) {
    logger.info("disk.limit", { mechanism: "none" });
    return "none";
  }
  let quota = false;
  try {
    // The probe creates a container of the image: it must be there first.
    await runtime.ensureImage(config.container.image, { policy: config.container.pull });
    quota = await runtime.enableDiskQuota(config.container.image);
  } catch (error) {
    logger.warn("disk.quota_probe_failed", {
      error: describeError(error),
      fallback: "watch",
    });
  }
  const mechanism = quota ? "quota" : "watch";
  const limited = profiles(config).find((c) => c.disk > 0 && !c.readOnlyRootfs);
  logger.info("disk.limit", {
    mechanism,
    ...(limited ? { detail: describeDiskLimit(mechanism, limited) } : {}),
  });
  return mechanism;
}

/** Whether any profile of `config` limits what its containers write (and is not read-only). */
export function needsDiskWatch(config: Config): boolean {
  return profiles(config).some((c) => c.disk > 0 && !c.readOnlyRootfs);
}

/** One line on what bounds a profile's writes, for the log and `check-config`. */
export function describeDiskLimit(
  mechanism: DiskMechanism | "unknown",
  container: { disk: number; readOnlyRootfs: boolean; tmpfs: Record<string, number> },
): string {
  const tmpfs = Object.entries(container.tmpfs)
    .map(([path, bytes]) => `${path} ${formatBytes(bytes)}`)
    .join(", ");
  const inMemory = tmpfs ? `; tmpfs (counted in the memory limit): ${tmpfs}` : "";
  if (container.readOnlyRootfs) return `read-only root filesystem${inMemory}`;
  if (container.disk <= 0) return `no limit on the container's own filesystem${inMemory}`;
  const size = formatBytes(container.disk);
  switch (mechanism) {
    case "quota":
      return `${size} per container, the engine's storage quota (exact)${inMemory}`;
    case "watch":
      return `${size} per container, checked twice a second, and no file larger (the engine has no ` +
        `storage quota; a session is ended once it is over)${inMemory}`;
    default:
      return `${size} per container: the engine's storage quota where it has one, ` +
        `else checked twice a second${inMemory}`;
  }
}
