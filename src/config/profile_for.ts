import type { Config } from "./types.ts";

/** Who logged in, as far as the choice of a profile goes. */
export interface ProfileLogin {
  username: string;
  /** The principals of the user certificate the login used, in the certificate's order. */
  principals?: readonly string[] | undefined;
  /** The profile the auth webhook named for the login. */
  profile?: string | undefined;
}

/**
 * The profile a login gets: the one the auth webhook named, else the user entry's `profile`, else
 * that of the first of the certificate's principals that
 * `auth.principalProfiles` lists, else none (the global settings). A config
 * webhook's answer, when there is one, overrides this choice.
 *
 * @returns a key of `config.profiles`, or `undefined`
 */
export function profileFor(config: Config, login: ProfileLogin): string | undefined {
  if (login.profile !== undefined && Object.hasOwn(config.profiles, login.profile)) {
    return login.profile;
  }
  const user = Object.hasOwn(config.users, login.username)
    ? config.users[login.username]
    : undefined;
  if (user?.profile !== undefined) return user.profile;
  const byPrincipal = config.auth.principalProfiles;
  for (const principal of login.principals ?? []) {
    if (Object.hasOwn(byPrincipal, principal)) return byPrincipal[principal];
  }
  return undefined;
}
