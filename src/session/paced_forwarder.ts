import { describeError } from "../errors/mod.ts";
import type { Logger } from "../log/mod.ts";

/** Options of {@linkcode pacedForwarder}. */
export interface PacedForwarderOptions {
  /** Least milliseconds between two calls. */
  intervalMs: number;
  /** Stops forwarding once aborted. */
  signal: AbortSignal;
  logger: Logger;
  /** Log event for a failed call. */
  failureEvent: string;
}

/**
 * Wraps a call to the engine so that a client flooding requests cannot flood
 * the engine: one call in flight, at most one per `intervalMs`, and the
 * latest value always last (values pushed in between are coalesced).
 *
 * @returns the function to push each new value to
 */
export function pacedForwarder<T>(
  call: (value: T) => Promise<void>,
  options: PacedForwarderOptions,
): (value: T) => void {
  let pending: { value: T } | undefined;
  let busy = false;

  const flush = async () => {
    busy = true;
    while (pending !== undefined && !options.signal.aborted) {
      const { value } = pending;
      pending = undefined;
      try {
        await call(value);
      } catch (error) {
        options.logger.debug(options.failureEvent, { error: describeError(error) });
      }
      await new Promise((resolve) => setTimeout(resolve, options.intervalMs));
    }
    busy = false;
  };

  return (value) => {
    pending = { value };
    if (!busy) void flush();
  };
}
