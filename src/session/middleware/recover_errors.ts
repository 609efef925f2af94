import { CapsuleError, describeError, userMessageOf } from "../../errors/mod.ts";
import type { SessionMiddleware } from "../session_context.ts";

const encoder = new TextEncoder();

/**
 * Turns an error thrown by the inner handler into one clear line on the
 * client's stderr and a non-zero exit status; the operator's log gets the
 * code and the cause. Stack traces and engine errors never reach the client.
 */
export function recoverErrors(): SessionMiddleware {
  return (next) => async (ctx) => {
    try {
      return await next(ctx);
    } catch (error) {
      const known = error instanceof CapsuleError;
      ctx.logger.error("session.error", {
        code: known ? error.code : "INTERNAL",
        error: describeError(error),
      });
      const line = `capsule: ${userMessageOf(error, ctx.id)}${ctx.pty ? "\r\n" : "\n"}`;
      await ctx.io.write("stderr", encoder.encode(line)).catch(() => {});
      return { code: known ? error.exitCode : 255 };
    }
  };
}
