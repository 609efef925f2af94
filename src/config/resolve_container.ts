import type { Config, ContainerConfig, UlimitsConfig } from "./types.ts";

/** What else shapes a user's settings besides the config: the profile and a webhook's answer. */
export interface ResolveOptions {
  /**
   * The profile (a key of `profiles`) the settings start from, over the
   * global ones; an unknown name adds nothing. Absent: the user's own
   * `profile`, if any.
   */
  profile?: string | undefined;
  /** Overrides applied last, over the user's own (a config webhook's answer). */
  overrides?: Partial<ContainerConfig> | undefined;
}

/**
 * The container settings for a user, in layers: the global settings, then
 * the profile's overrides, then the user's own, then `options.overrides`.
 * `env` and `ulimits` merge key by key (the later layer wins); every other
 * setting, `mounts` and `tmpfs` included, is replaced when a layer sets it.
 *
 * @param username the logged-in user; `undefined` or an unknown name adds no user layer
 * @returns a fresh object the caller may change
 *
 * @example
 * ```ts
 * const spec = resolveContainer(config, "alice");
 * const php = resolveContainer(config, "carol", { profile: "php" });
 * ```
 */
export function resolveContainer(
  config: Config,
  username: string | undefined,
  options: ResolveOptions = {},
): ContainerConfig {
  const user = username !== undefined && Object.hasOwn(config.users, username)
    ? config.users[username]
    : undefined;
  const profileName = options.profile ?? user?.profile;
  const profile = profileName !== undefined && Object.hasOwn(config.profiles, profileName)
    ? config.profiles[profileName]
    : undefined;
  const layers = [profile ?? {}, user?.container ?? {}, options.overrides ?? {}];
  let merged: ContainerConfig = config.container;
  let env = { ...merged.env };
  let ulimits: UlimitsConfig = { ...merged.ulimits };
  for (const layer of layers) {
    merged = { ...merged, ...layer };
    env = { ...env, ...layer.env };
    ulimits = { ...ulimits, ...layer.ulimits };
  }
  return {
    ...merged,
    env,
    ulimits: Object.fromEntries(
      Object.entries(ulimits).map(([name, limit]) => [name, { ...limit }]),
    ),
    tmpfs: { ...merged.tmpfs },
    mounts: merged.mounts.map((m) => ({ ...m })),
    capAdd: [...merged.capAdd],
    forwarding: { ...merged.forwarding },
    sftp: { ...merged.sftp },
    pool: { ...merged.pool },
  };
}
