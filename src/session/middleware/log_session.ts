import type { SessionMiddleware } from "../session_context.ts";

/** Logs `session.start` and `session.end` (with exit status and duration). */
export function logSession(): SessionMiddleware {
  return (next) => async (ctx) => {
    const started = performance.now();
    ctx.logger.info("session.start", {
      kind: ctx.request.kind,
      ...(ctx.request.kind === "subsystem" ? { subsystem: ctx.request.name } : {}),
      tty: ctx.pty !== undefined,
      env: Object.keys(ctx.env),
    });
    const status = await next(ctx);
    ctx.logger.info("session.end", {
      ...("code" in status ? { exit_code: status.code } : { exit_signal: status.signal }),
      duration_ms: Math.round(performance.now() - started),
    });
    return status;
  };
}
