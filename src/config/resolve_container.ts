import type { Config, ContainerConfig } from "./types.ts";

/**
 * The container settings for a user: the global settings with the user's
 * overrides applied. `env` merges key by key (the user's values win); every
 * other setting, `mounts` included, is replaced when the user sets it.
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
  return {
    ...merged,
    env: { ...global.env, ...overrides.env },
    mounts: merged.mounts.map((m) => ({ ...m })),
  };
}
