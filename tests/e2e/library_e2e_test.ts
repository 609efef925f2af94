/**
 * capsule as a library (`mod.ts`): started from code with a config object,
 * serving an SSH connection over an in-process pair of streams, no TCP.
 * Resource sanitizers stay on: everything it opened is closed by `close()`.
 */
import assert from "node:assert/strict";
// @ts-types="@types/ssh2"
import { Client } from "ssh2";
import { startCapsule } from "../../mod.ts";
import { silentLogger } from "../../src/log/mod.ts";
import { StreamSocket } from "../../src/ssh/mod.ts";
import { DEMO_PASSWORD, demoPasswordHash } from "../helpers/demo_capsule.ts";
import { assertNoContainersLeft, requireEngine } from "../helpers/docker.ts";
import { collect, openChannel } from "../helpers/ssh_client.ts";

await requireEngine();

Deno.test("startCapsule() with a config object serves a connection over a stream pair", async () => {
  const dir = await Deno.makeTempDir({ prefix: "capsule-library-" });
  const instance = `library-${crypto.randomUUID().slice(0, 8)}`;
  const capsule = await startCapsule({
    server: { stateDir: `${dir}/state`, instance, penalties: { enabled: false } },
    users: { demo: { passwordHash: await demoPasswordHash() } },
  }, { listen: false, logger: silentLogger() });
  try {
    assert.equal(capsule.address, undefined);
    const toServer = new TransformStream<Uint8Array, Uint8Array>();
    const toClient = new TransformStream<Uint8Array, Uint8Array>();
    const served = capsule.serveConnection(
      { readable: toServer.readable, writable: toClient.writable },
      { remoteAddress: "198.51.100.4", remotePort: 5555 },
    );
    const client = new Client();
    await new Promise<void>((resolve, reject) => {
      client.once("ready", () => resolve()).once("error", reject);
      client.connect({
        sock: new StreamSocket(toClient.readable, toServer.writable),
        username: "demo",
        password: DEMO_PASSWORD,
        readyTimeout: 20_000,
      });
    });
    const result = await collect(await openChannel(client, { exec: "echo from-library; exit 4" }));
    assert.deepEqual(result, { stdout: "from-library\n", stderr: "", code: 4, signal: undefined });
    client.end();
    await served;
  } finally {
    await capsule.close();
    await assertNoContainersLeft(15_000, instance);
    await Deno.remove(dir, { recursive: true });
  }
});
