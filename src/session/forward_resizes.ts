import { describeError } from "../errors/mod.ts";
import type { SessionContext, WindowSize } from "./session_context.ts";

/** Least time between two resize calls to the engine. */
export const RESIZE_INTERVAL_MS = 200;

/**
 * Forwards window changes to `resize`, coalesced: one call in flight, at most
 * one call per {@linkcode RESIZE_INTERVAL_MS}, and always the latest size
 * last, so a client that floods window-change requests cannot flood the engine.
 */
export function forwardResizes(
  ctx: Pick<SessionContext, "onResize" | "signal" | "logger">,
  resize: (size: WindowSize) => Promise<void>,
  intervalMs = RESIZE_INTERVAL_MS,
): void {
  let pending: WindowSize | undefined;
  let busy = false;

  const flush = async () => {
    busy = true;
    while (pending !== undefined && !ctx.signal.aborted) {
      const size = pending;
      pending = undefined;
      try {
        await resize(size);
      } catch (error) {
        ctx.logger.debug("session.resize_failed", { error: describeError(error) });
      }
      await new Promise((resolve) => setTimeout(resolve, intervalMs));
    }
    busy = false;
  };

  ctx.onResize((size) => {
    pending = size;
    if (!busy) void flush();
  });
}
