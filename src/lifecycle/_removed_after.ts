import type { ContainerConfig } from "../config/types.ts";
import type { ContainerRuntime, RunningProcess } from "../runtime/mod.ts";
import type { PlacedProcess, SessionContext } from "../session/mod.ts";
import { lifetimeReason, lifetimeSignal } from "./_lifetime_signal.ts";

/** `placed`, with `owner` taken out of `live` only once its release has finished. */
export function ownerLiveUntilReleased(
  placed: PlacedProcess,
  live: Set<string>,
  owner: string,
): PlacedProcess {
  return {
    ...placed,
    release: async () => {
      try {
        await placed.release();
      } finally {
        live.delete(owner);
      }
    },
  };
}

/**
 * A placed process whose container is the session's alone: ending the
 * session removes it, and so does its lifetime (`lifetimeMs` left; 0 for
 * none) running out.
 */
export function removedAfter(
  runtime: ContainerRuntime,
  ctx: SessionContext,
  process: RunningProcess,
  container: ContainerConfig,
  lifetimeMs: number,
): PlacedProcess {
  const log = ctx.logger.child({ container: process.containerId.slice(0, 12) });
  let removing: Promise<void> | undefined;
  const remove = () => (removing ??= runtime.remove(process.containerId));
  const lifetime = lifetimeSignal(lifetimeMs, lifetimeReason(container));
  return {
    process,
    expired: lifetime.signal,
    end: () => void remove().catch(() => {}),
    async release() {
      lifetime.cancel();
      await process.close({ containerGoing: true });
      await remove();
      log.info("container.remove");
    },
  };
}
