import type { ContainerConfig } from "../config/types.ts";
import type { RunningProcess } from "../runtime/mod.ts";
import type { SessionContext } from "./session_context.ts";

/** A session's process where a {@linkcode Placement} put it. */
export interface PlacedProcess {
  readonly process: RunningProcess;
  /**
   * Aborted when the container reaches its maximum lifetime; the reason is
   * the line for the user. The session ends as on a timeout.
   */
  readonly expired: AbortSignal;
  /** Ends the session's process now (client gone, timeout). Idempotent. */
  end(): void;
  /**
   * Gives back what the session held: removes its own container, or drops its
   * hold on a shared one. Called once, when the session is over.
   */
  release(): Promise<void>;
}

/**
 * Decides which container a session's process runs in (a fresh one, the
 * connection's, the user's, a warm one) and starts it there.
 */
export interface Placement {
  /** Starts the session's process; throws a `CapsuleError` the user can read. */
  launch(ctx: SessionContext, container: ContainerConfig): Promise<PlacedProcess>;
}

/** The longest delay `setTimeout` takes as it is. */
const MAX_TIMER_MS = 2 ** 31 - 1;

/**
 * Calls `fn` once after `ms`, however long (`setTimeout` alone fires at once
 * past about 24.8 days). Returns the off switch.
 */
export function afterMs(ms: number, fn: () => void): () => void {
  const deadline = Date.now() + ms;
  let timer: ReturnType<typeof setTimeout> | undefined;
  const arm = () => {
    const left = deadline - Date.now();
    if (left <= 0) fn();
    else timer = setTimeout(arm, Math.min(left, MAX_TIMER_MS));
  };
  arm();
  return () => clearTimeout(timer);
}

/** A signal that aborts with `reason` after `ms` (never when `ms` is 0), and its off switch. */
export function lifetimeSignal(
  ms: number,
  reason: string,
): { signal: AbortSignal; cancel(): void } {
  const controller = new AbortController();
  if (ms <= 0) return { signal: controller.signal, cancel() {} };
  const cancel = afterMs(ms, () => controller.abort(reason));
  return { signal: controller.signal, cancel };
}

/** The line a user reads when their container reached `container.maxLifetime`. */
export function lifetimeReason(container: Pick<ContainerConfig, "maxLifetime">): string {
  return `session ended: the container reached its maximum lifetime of ${container.maxLifetime} s`;
}
