import type { ContainerConfig } from "../config/types.ts";
import type { ContainerRuntime, RunningProcess } from "../runtime/mod.ts";
import type { ContainerAlarms } from "./container_alarms.ts";
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

/** Options of {@linkcode removedAfter}. */
export interface RemovedAfterOptions {
  /** The session's process, whose container is the session's alone. */
  process: RunningProcess;
  container: ContainerConfig;
  /** Milliseconds of lifetime left; 0 for none. */
  lifetimeMs: number;
  /** A raised alarm (a limit the container went over) ends the session too. */
  alarms?: ContainerAlarms;
}

/**
 * A placed process whose container is the session's alone: ending the
 * session removes it, and so does its lifetime running out or an alarm.
 */
export function removedAfter(
  runtime: ContainerRuntime,
  ctx: SessionContext,
  options: RemovedAfterOptions,
): PlacedProcess {
  const { process, container, alarms } = options;
  const id = process.containerId;
  const log = ctx.logger.child({ container: id.slice(0, 12) });
  let removing: Promise<void> | undefined;
  const remove = () => (removing ??= runtime.remove(id).finally(() => alarms?.forget(id)));
  const lifetime = lifetimeSignal(options.lifetimeMs, lifetimeReason(container));
  return {
    process,
    expired: alarms ? AbortSignal.any([lifetime.signal, alarms.signalFor(id)]) : lifetime.signal,
    end: () => void remove().catch(() => {}),
    async release() {
      lifetime.cancel();
      await process.close({ containerGoing: true });
      await remove();
      log.info("container.remove");
    },
  };
}
