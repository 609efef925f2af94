import type { Config } from "./types.ts";

/** The caps that apply to one user. */
export interface UserLimits {
  /** Sessions the user may hold at once over all connections; 0 for no cap. */
  sessionsPerUser: number;
  /** Authenticated connections the user may hold at once; 0 for no cap. */
  connectionsPerUser: number;
}

/**
 * The caps for a user: the global `limits` with the user's own `limits`
 * applied.
 *
 * @param username the logged-in user; a name not under `users` gets the global caps
 *
 * @example
 * ```ts
 * const { sessionsPerUser } = limitsFor(config, "alice");
 * ```
 */
export function limitsFor(config: Config, username: string): UserLimits {
  const own = Object.hasOwn(config.users, username) ? config.users[username]?.limits : undefined;
  return {
    sessionsPerUser: own?.sessionsPerUser ?? config.limits.sessionsPerUser,
    connectionsPerUser: own?.connectionsPerUser ?? config.limits.connectionsPerUser,
  };
}
