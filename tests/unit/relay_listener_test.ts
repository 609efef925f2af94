import assert from "node:assert/strict";
import {
  encodeRelayFrame,
  RELAY_WINDOW,
  type RelayConnection,
  RelayListener,
} from "../../src/forward/mod.ts";
import { FakeRuntime } from "../helpers/fake_runtime.ts";

const text = (s: string) => new TextEncoder().encode(s);

/** A relay, as the fake engine plays it, that says `frames` on stdout and then keeps running. */
async function relaySaying(frames: Uint8Array[]) {
  const runtime = new FakeRuntime();
  runtime.live.add("box");
  runtime.script = {
    output: [
      { stream: "stdout", data: encodeRelayFrame("L", 0, text("9000")) },
      ...frames.map((data) => ({ stream: "stdout" as const, data })),
    ],
    untilSignal: true,
  };
  const connections: RelayConnection[] = [];
  const relay = await RelayListener.start(runtime, "box", {
    kind: "tcp",
    address: "127.0.0.1",
    port: 0,
  }, {
    user: "1000",
    shell: "/bin/sh",
    onConnection: (connection) => connections.push(connection),
  });
  return { relay, connections, runtime };
}

Deno.test("RelayListener: data within the window is delivered; the window is given back as it is read", async () => {
  const payload = new Uint8Array(RELAY_WINDOW).fill(7);
  const { relay, connections, runtime } = await relaySaying([
    encodeRelayFrame("O", 1, text("127.0.0.1 5000")),
    encodeRelayFrame("D", 1, payload),
    encodeRelayFrame("E", 1),
  ]);
  await new Promise((r) => setTimeout(r, 20));
  assert.equal(connections.length, 1);
  assert.equal(connections[0]!.peer, "127.0.0.1 5000");
  let total = 0;
  for await (const chunk of connections[0]!.incoming) total += chunk.length;
  assert.equal(total, RELAY_WINDOW);
  await new Promise((r) => setTimeout(r, 20));
  const windows = runtime.calls.filter((c) => c.op === "stdin");
  assert.ok(windows.length >= 1, "no window frame went back to the relay");
  await relay.stop();
});

Deno.test("RelayListener stops a relay that breaks the protocol: beyond the window, a reused id", async (t) => {
  for (
    const [name, frames, reason] of [
      [
        "data beyond the window",
        [
          encodeRelayFrame("O", 1, text("127.0.0.1 5000")),
          encodeRelayFrame("D", 1, new Uint8Array(RELAY_WINDOW)),
          encodeRelayFrame("D", 1, new Uint8Array(1)),
        ],
        /beyond its window/,
      ],
      [
        "a reused id",
        [encodeRelayFrame("O", 1, text("a 1")), encodeRelayFrame("O", 1, text("a 2"))],
        /reused connection id 1/,
      ],
      [
        "an id going back",
        [encodeRelayFrame("O", 5, text("a 1")), encodeRelayFrame("O", 3, text("a 2"))],
        /reused connection id 3/,
      ],
      ["garbage", [new Uint8Array([0x5a, 0, 0, 0, 1, 0, 0, 0, 0])], /unknown frame type/],
    ] as const
  ) {
    await t.step(name, async () => {
      const { relay, connections } = await relaySaying([...frames]);
      let timer: ReturnType<typeof setTimeout> | undefined;
      const stopped = await Promise.race([
        relay.done.then(() => true),
        new Promise<boolean>((r) => (timer = setTimeout(() => r(false), 5_000))),
      ]);
      clearTimeout(timer);
      if (!stopped) await relay.stop();
      assert.ok(stopped, "the relay was let run on");
      assert.match(relay.exitReason, reason);
      for (const connection of connections) assert.ok(connection.closed.aborted);
    });
  }
});
