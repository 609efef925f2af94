/** Figure: capsule's resident memory, idle and with idle authenticated connections. */
import type { MemoryFigures } from "../results.ts";
import { rssKiB } from "../rss.ts";
import { sleep } from "../sleep.ts";
import { closeSsh2, connectSsh2, type Ssh2Login } from "../ssh2_client.ts";

/**
 * Opens `count` connections that authenticate and open no channel, and
 * measures the server's RSS with them open; `idleKiB` is the baseline.
 */
export async function measureMemory(
  login: Ssh2Login,
  pid: number,
  idleKiB: number,
  count: number,
): Promise<MemoryFigures> {
  const clients = [];
  try {
    for (let i = 0; i < count; i++) {
      try {
        clients.push(await connectSsh2(login));
      } catch {
        // Counted below: connected < count.
      }
    }
    // Let the server settle (keys, buffers, a GC) before reading.
    await sleep(1_500);
    const withConnectionsKiB = await rssKiB(pid);
    if (withConnectionsKiB === undefined) {
      throw new Error("capsule exited during the memory figure");
    }
    return { idleKiB, connections: count, connected: clients.length, withConnectionsKiB };
  } finally {
    await Promise.all(clients.map((client) => closeSsh2(client)));
  }
}
