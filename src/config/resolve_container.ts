import type { Config, ContainerConfig, UlimitsConfig } from "./types.ts";

/**
 * The container settings for a user: the global settings with the user's
 * overrides applied. `env` and `ulimits` merge key by key (the user's values
 * win); every other setting, `mounts` and `tmpfs` included, is replaced when
 * the user sets it.
 *
 * @param username the logged-in user; `undefined` or an unknown name gets the global settings
 * @returns a fresh object the caller may change
 *
 * @example
 * ```ts
 * const spec = resolveContainer(config, "alice");
 * ```
 */
export function resolveContainer(config: Config, username: string | undefined): ContainerConfig {
  const global = config.container;
  const overrides = username !== undefined && Object.hasOwn(config.users, username)
    ? config.users[username]?.container ?? {}
    : {};
  const merged: ContainerConfig = { ...global, ...overrides };
  const ulimits: UlimitsConfig = { ...global.ulimits, ...overrides.ulimits };
  return {
    ...merged,
    env: { ...global.env, ...overrides.env },
    ulimits: Object.fromEntries(
      Object.entries(ulimits).map(([name, limit]) => [name, { ...limit }]),
    ),
    tmpfs: { ...merged.tmpfs },
    mounts: merged.mounts.map((m) => ({ ...m })),
  };
}
