import type { SessionMiddleware } from "../session/mod.ts";

/**
 * Keeps `live` holding the id of every session whose handler is running, from
 * before its container is created until after it is removed, so a sweep
 * never takes a container that a session still owns.
 */
export function trackLiveSessions(live: Set<string>): SessionMiddleware {
  return (next) => async (ctx) => {
    live.add(ctx.id);
    try {
      return await next(ctx);
    } finally {
      live.delete(ctx.id);
    }
  };
}
