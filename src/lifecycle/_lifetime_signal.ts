import type { ContainerConfig } from "../config/types.ts";

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

/**
 * What is left of a container's `maxLifetime` (0 for no limit), counted from
 * when it was created; at least 1 ms, so a lifetime that ran out ends at once.
 */
export function lifetimeLeftMs(
  container: Pick<ContainerConfig, "maxLifetime">,
  createdMs: number,
): number {
  if (container.maxLifetime <= 0) return 0;
  return Math.max(1, container.maxLifetime * 1000 - (Date.now() - createdMs));
}

/** The line a user reads when their container reached `container.maxLifetime`. */
export function lifetimeReason(container: Pick<ContainerConfig, "maxLifetime">): string {
  return `session ended: the container reached its maximum lifetime of ${container.maxLifetime} s`;
}
