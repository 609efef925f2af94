import type { SessionMiddleware } from "../session/mod.ts";
import type { UserCaps } from "./user_caps.ts";

/**
 * Session middleware: counts each session against its user's
 * `sessionsPerUser` cap for as long as it runs, and refuses one over the cap
 * before anything is created (the error becomes one line for the user).
 */
export function limitSessions(caps: UserCaps): SessionMiddleware {
  return (next) => async (ctx) => {
    const refused = caps.openSession(ctx.identity.username, ctx.id);
    if (refused) throw refused;
    try {
      return await next(ctx);
    } finally {
      caps.closeSession(ctx.id);
    }
  };
}
