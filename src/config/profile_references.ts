import { formatPath } from "./config_path.ts";
import type { Config } from "./types.ts";

/** A reference to a profile that `profiles` does not define. */
export interface UnknownProfile {
  path: (string | number)[];
  message: string;
}

function unknown(config: Config, path: string[], name: string): UnknownProfile {
  const known = Object.keys(config.profiles);
  const list = known.length > 0 ? known.map((k) => `"${k}"`).join(", ") : "none";
  return {
    path,
    message: `"${
      formatPath(path)
    }" names profile "${name}", which "profiles" does not define (defined: ${list})`,
  };
}

/**
 * Lists the profile names that user entries and `auth.principalProfiles`
 * use but `profiles` does not define.
 */
export function unknownProfiles(config: Config): UnknownProfile[] {
  const found: UnknownProfile[] = [];
  for (const [name, user] of Object.entries(config.users)) {
    if (user.profile !== undefined && !Object.hasOwn(config.profiles, user.profile)) {
      found.push(unknown(config, ["users", name, "profile"], user.profile));
    }
  }
  for (const [principal, profile] of Object.entries(config.auth.principalProfiles)) {
    if (!Object.hasOwn(config.profiles, profile)) {
      found.push(unknown(config, ["auth", "principalProfiles", principal], profile));
    }
  }
  return found;
}
