import type { RelayConnection } from "./relay_listener.ts";
import type { TunnelEnd } from "./tunnel.ts";

/** Bytes a spliced connection moved each way. */
export interface SpliceCounts {
  /** From the client into the container. */
  bytesIn: number;
  /** From the container to the client. */
  bytesOut: number;
}

/**
 * Pipes a connection the relay accepted in the container and the channel
 * opened for it to the client, both ways, with EOF passed on each way
 * (half-close), until both directions ended or either side closed; then
 * closes both. Each direction has one chunk in flight, and the relay's
 * window bounds what is buffered, so a stalled side stalls its sender
 * instead of growing memory. Never throws.
 */
export async function spliceRelay(relay: RelayConnection, end: TunnelEnd): Promise<SpliceCounts> {
  const counts: SpliceCounts = { bytesIn: 0, bytesOut: 0 };
  const closed = Promise.withResolvers<void>();
  const onClose = () => closed.resolve();
  relay.closed.addEventListener("abort", onClose, { once: true });
  end.closed.addEventListener("abort", onClose, { once: true });
  if (relay.closed.aborted || end.closed.aborted) onClose();
  const toContainer = (async () => {
    try {
      for await (const data of end.incoming) {
        counts.bytesIn += data.length;
        await relay.write(data);
      }
      relay.eof();
    } catch {
      // The relayed connection closed; the race below sees it.
    }
  })();
  const toClient = (async () => {
    try {
      for await (const data of relay.incoming) {
        counts.bytesOut += data.length;
        await end.write(data);
      }
      if (!relay.closed.aborted) end.eof?.();
    } catch {
      // The channel closed; the race below sees it.
    }
  })();
  try {
    await Promise.race([Promise.all([toContainer, toClient]), closed.promise]);
    // What the relay sent before it closed still goes out.
    await Promise.race([toClient, end.closed.aborted ? undefined : waitAbort(end.closed, 1_000)]);
  } finally {
    relay.closed.removeEventListener("abort", onClose);
    end.closed.removeEventListener("abort", onClose);
    relay.close();
    end.end();
  }
  return counts;
}

/** Resolves when `signal` aborts or after `ms`, whichever comes first. */
function waitAbort(signal: AbortSignal, ms: number): Promise<void> {
  return new Promise((resolve) => {
    const timer = setTimeout(done, ms);
    function done() {
      clearTimeout(timer);
      signal.removeEventListener("abort", done);
      resolve();
    }
    signal.addEventListener("abort", done, { once: true });
  });
}
