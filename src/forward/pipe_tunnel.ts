import type { OutputChunk, RunningProcess } from "../runtime/mod.ts";
import type { TunnelEnd } from "./tunnel.ts";

/**
 * Pipes a forwarded channel and the relay process in the container both
 * ways, one chunk in flight each way (a stalled side stalls the other, and
 * memory stays bounded), until either side ends; then closes both.
 *
 * @param process the relay (socat) in the container
 * @param output the rest of its output; `early` holds stdout read before
 * @param end the SSH channel
 */
export async function pipeTunnel(
  process: RunningProcess,
  output: AsyncIterator<OutputChunk>,
  early: Uint8Array[],
  end: TunnelEnd,
): Promise<void> {
  const stop = () => void process.close().catch(() => {});
  end.closed.addEventListener("abort", stop, { once: true });
  const upstream = (async () => {
    try {
      for await (const data of end.incoming) await process.writeStdin(data);
      await process.closeStdin();
    } catch {
      // The relay or the channel went away; the other direction notices too.
    }
  })();
  try {
    for (const data of early) await end.write(data);
    while (true) {
      const next = await output.next();
      if (next.done) break;
      if (next.value.stream === "stdout") await end.write(next.value.data);
    }
  } catch {
    // The channel closed under a write.
  } finally {
    end.closed.removeEventListener("abort", stop);
    end.end();
    await process.close().catch(() => {});
    // The upstream copy ends with the channel; do not wait on a client that lingers.
    let timer: ReturnType<typeof setTimeout> | undefined;
    await Promise.race([upstream, new Promise((r) => (timer = setTimeout(r, 1_000)))]);
    clearTimeout(timer);
  }
}
