import assert from "node:assert/strict";
import type { Duplex } from "node:stream";
import { hijack } from "../../src/runtime/_hijack.ts";

const encoder = new TextEncoder();
const decoder = new TextDecoder();

/**
 * A one-connection engine on a unix socket: reads the request up to its
 * blank line and the body its Content-Length announces, answers `answer`,
 * and hands the connection to `then`.
 */
async function fakeEngine(
  answer: string,
  then: (conn: Deno.Conn) => Promise<void> = async () => {},
) {
  const dir = await Deno.makeTempDir({ prefix: "capsule-hijack-" });
  const path = `${dir}/engine.sock`;
  const listener = Deno.listen({ transport: "unix", path });
  const served = (async () => {
    const conn = await listener.accept();
    let received = "";
    const buffer = new Uint8Array(4096);
    while (true) {
      const end = received.indexOf("\r\n\r\n");
      const length = Number(/content-length: (\d+)/i.exec(received)?.[1] ?? 0);
      if (end >= 0 && received.length >= end + 4 + length) break;
      const n = await conn.read(buffer);
      if (n === null) break;
      received += decoder.decode(buffer.subarray(0, n));
    }
    await conn.write(encoder.encode(answer));
    await then(conn);
    conn.close();
    return received;
  })();
  return {
    path,
    /** The request as the engine read it. */
    request: served,
    async close() {
      listener.close();
      await Deno.remove(dir, { recursive: true });
    },
  };
}

/** Everything a duplex gives until it ends. */
async function readAll(stream: Duplex): Promise<string> {
  let text = "";
  for await (const chunk of stream as AsyncIterable<Uint8Array>) text += decoder.decode(chunk);
  return text;
}

const UPGRADED = "HTTP/1.1 101 UPGRADED\r\nConnection: Upgrade\r\nUpgrade: tcp\r\n\r\n";

Deno.test("hijack() opens an attach with no request body (Podman would pass one to stdin)", async () => {
  const engine = await fakeEngine(UPGRADED + "early", async (conn) => {
    const buffer = new Uint8Array(64);
    const n = await conn.read(buffer);
    await conn.write(encoder.encode(`|got:${decoder.decode(buffer.subarray(0, n ?? 0))}`));
  });
  try {
    const socket = await hijack({ kind: "socket", path: engine.path }, {
      path: "/containers/abc/attach?stream=1&stdin=1&stdout=1&stderr=1",
    });
    socket.write(encoder.encode("typed"));
    assert.equal(await readAll(socket), "early|got:typed");
    const request = await engine.request;
    assert.match(request, /^POST \/containers\/abc\/attach\?stream=1&stdin=1&stdout=1&stderr=1 /);
    assert.match(request, /\r\nConnection: Upgrade\r\nUpgrade: tcp\r\n/);
    assert.match(request, /\r\nContent-Length: 0\r\n\r\n$/);
    assert.doesNotMatch(request, /Content-Type/);
    socket.destroy();
  } finally {
    await engine.close();
  }
});

Deno.test("hijack() sends an exec's start options as its JSON body", async () => {
  const engine = await fakeEngine(UPGRADED);
  try {
    const socket = await hijack({ kind: "socket", path: engine.path }, {
      path: "/exec/e1/start",
      body: { Detach: false, Tty: true },
    });
    assert.equal(await readAll(socket), "");
    const request = await engine.request;
    const body = '{"Detach":false,"Tty":true}';
    assert.match(request, /\r\nContent-Type: application\/json\r\n/);
    assert.ok(request.endsWith(`\r\nContent-Length: ${body.length}\r\n\r\n${body}`), request);
    socket.destroy();
  } finally {
    await engine.close();
  }
});

Deno.test("hijack() gives a refusal as dockerode's errors carry it", async () => {
  const body = '{"message":"No such container: abc"}';
  const engine = await fakeEngine(
    `HTTP/1.1 404 Not Found\r\nContent-Type: application/json\r\nContent-Length: ${body.length}\r\n\r\n${body}`,
  );
  try {
    const error = await hijack({ kind: "socket", path: engine.path }, { path: "/x" }).then(
      () => assert.fail("expected a refusal"),
      (e: unknown) => e as { statusCode: number; json: unknown; message: string },
    );
    assert.equal(error.statusCode, 404);
    assert.deepEqual(error.json, { message: "No such container: abc" });
    assert.match(error.message, /No such container: abc/);
    await engine.request;
  } finally {
    await engine.close();
  }
});
