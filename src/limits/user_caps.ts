import { CapsuleError } from "../errors/mod.ts";

/** The caps of one user (`limits`, with the user's own `limits` over them). */
export interface UserLimits {
  /** Sessions at once across all connections and modes; 0 for no cap. */
  sessionsPerUser: number;
  /** Authenticated connections at once; 0 for no cap. */
  connectionsPerUser: number;
}

/**
 * Counts what each user holds across all connections and modes (sessions and
 * authenticated connections) and refuses what would go over their caps.
 * Caps are read at each request, so a reload applies to the next one.
 */
export class UserCaps {
  readonly #limitsFor: (user: string) => UserLimits;
  readonly #sessions = new Map<string, string>();
  readonly #connections = new Map<string, string>();

  /** @param limitsFor a user's caps, read when they open something */
  constructor(limitsFor: (user: string) => UserLimits) {
    this.#limitsFor = limitsFor;
  }

  /** Sessions `user` holds now. */
  sessionsOf(user: string): number {
    return count(this.#sessions, user);
  }

  /** Authenticated connections `user` holds now. */
  connectionsOf(user: string): number {
    return count(this.#connections, user);
  }

  /**
   * Counts a new session of `user`, or refuses it.
   *
   * @returns the refusal (nothing is counted then), or `undefined`
   */
  openSession(user: string, sessionId: string): CapsuleError | undefined {
    return this.#open(this.#sessions, user, sessionId, "sessionsPerUser");
  }

  /** Forgets a session (no-op for one that was not counted). */
  closeSession(sessionId: string): void {
    this.#sessions.delete(sessionId);
  }

  /**
   * Counts a newly authenticated connection of `user`, or refuses it.
   *
   * @returns the refusal (nothing is counted then), or `undefined`
   */
  openConnection(user: string, connectionId: string): CapsuleError | undefined {
    return this.#open(this.#connections, user, connectionId, "connectionsPerUser");
  }

  /** Forgets a connection (no-op for one that was not counted). */
  closeConnection(connectionId: string): void {
    this.#connections.delete(connectionId);
  }

  #open(
    holders: Map<string, string>,
    user: string,
    id: string,
    limit: keyof UserLimits,
  ): CapsuleError | undefined {
    const cap = this.#limitsFor(user)[limit];
    if (cap > 0 && count(holders, user) >= cap) {
      const what = limit === "sessionsPerUser" ? "sessions" : "connections";
      return new CapsuleError(
        limit === "sessionsPerUser" ? "SESSION_CAP_REACHED" : "CONNECTION_CAP_REACHED",
        `Too many ${what} for user "${user}" (${cap})`,
        { cause: new Error(`limits.${limit} = ${cap} reached`), exitCode: 255 },
      );
    }
    holders.set(id, user);
    return undefined;
  }
}

function count(holders: Map<string, string>, user: string): number {
  let n = 0;
  for (const holder of holders.values()) if (holder === user) n++;
  return n;
}
