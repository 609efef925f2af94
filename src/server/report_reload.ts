import type { Config } from "../config/types.ts";
import type { Logger } from "../log/mod.ts";

/** Names of the top-level settings a reload applies; the rest need a restart. */
const APPLIED = new Set(["users", "auth", "container", "profiles", "limits"]);

/**
 * Logs what a reload changes: users added, removed and changed, and settings
 * that changed but need a restart to take effect.
 */
export function reportReload(before: Config, after: Config, logger: Logger): void {
  const users = (c: Config) =>
    new Map(Object.entries(c.users).map(([k, v]) => [k, JSON.stringify(v)]));
  const old = users(before);
  const now = users(after);
  const added = [...now.keys()].filter((u) => !old.has(u));
  const removed = [...old.keys()].filter((u) => !now.has(u));
  const changed = [...now.keys()].filter((u) => old.has(u) && old.get(u) !== now.get(u));
  const needRestart: string[] = (Object.keys(after) as (keyof Config)[])
    .filter((key) =>
      !APPLIED.has(key) && key !== "docker" &&
      JSON.stringify(before[key]) !== JSON.stringify(after[key])
    );
  // Registries, the pre-pull and the refresh interval apply; the engine does not.
  if (before.docker.host !== after.docker.host) needRestart.push("docker.host");
  if (JSON.stringify(before.docker.tls) !== JSON.stringify(after.docker.tls)) {
    needRestart.push("docker.tls");
  }
  logger.info("config.reloaded", {
    users_added: added,
    users_removed: removed,
    users_changed: changed,
    auth_changed: JSON.stringify(before.auth) !== JSON.stringify(after.auth),
    container_changed: JSON.stringify(before.container) !== JSON.stringify(after.container),
    profiles_changed: JSON.stringify(before.profiles) !== JSON.stringify(after.profiles),
  });
  if (needRestart.length > 0) {
    logger.warn("config.reload_needs_restart", { settings: needRestart });
  }
}
