import { CapsuleError, describeError, userMessageOf } from "../../errors/mod.ts";
import type { SessionMiddleware } from "../session_context.ts";
import { tellUser } from "../tell_user.ts";

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
      if (known && error.code === "CLIENT_GONE") {
        ctx.logger.info("session.client_gone");
        return { code: error.exitCode };
      }
      ctx.logger.error("session.error", {
        code: known ? error.code : "INTERNAL",
        error: describeError(error),
      });
      await tellUser(ctx, userMessageOf(error, ctx.id));
      return { code: known ? error.exitCode : 255 };
    }
  };
}
