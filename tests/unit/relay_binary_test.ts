/**
 * The real relay (tools/relay/capsule-relay.c, static, built by
 * scripts/build-tools.sh) run on the host, the test playing capsule on its
 * stdin and stdout, and the relay's peers on its sockets.
 */
import assert from "node:assert/strict";
import { encodeRelayFrame, windowBytes, windowPayload } from "../../src/forward/relay_frames.ts";
import { relayBinary, RelayProcess, sleep, WINDOW, within } from "../helpers/relay_process.ts";
import {
  type Flow,
  randomBytes,
  readAll,
  RelayTraffic,
  sha256,
  writeAll,
} from "../helpers/relay_traffic.ts";

const text = (bytes: Uint8Array) => new TextDecoder().decode(bytes);
const bytes = (value: string) => new TextEncoder().encode(value);

async function withTempDir(fn: (dir: string) => Promise<void>): Promise<void> {
  const dir = await Deno.realPath(await Deno.makeTempDir({ prefix: "relay" }));
  try {
    await fn(dir);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
}

async function exists(path: string): Promise<boolean> {
  try {
    await Deno.lstat(path);
    return true;
  } catch (error) {
    if (error instanceof Deno.errors.NotFound) return false;
    throw error;
  }
}

/** Starts a TCP relay on 127.0.0.1 and returns it with its port. */
async function tcpRelay(): Promise<{ relay: RelayProcess; port: number }> {
  const relay = await RelayProcess.start("tcp", "127.0.0.1", "0");
  const listening = await relay.expect("L", 0);
  const port = Number(text(listening.payload));
  assert.ok(Number.isInteger(port) && port > 0 && port < 65536, `bound port ${port}`);
  return { relay, port };
}

/** A relay that must refuse to start: its one frame is `X` matching `message`, then exit 1. */
async function assertRefuses(args: string[], message: RegExp): Promise<void> {
  await using relay = await RelayProcess.start(...args);
  const frame = await relay.expect("X", 0);
  assert.match(text(frame.payload), message);
  const exit = await relay.exit();
  assert.equal(exit.code, 1);
  assert.deepEqual(relay.queued, []);
}

/** Hostile bytes on stdin: the relay must answer with `X` matching `message` and exit 1. */
async function assertFatal(relay: RelayProcess, stdin: Uint8Array, message: RegExp) {
  await relay.write(stdin).catch(() => {});
  const frame = await relay.next((f) => f.type === "X");
  assert.equal(frame.id, 0);
  assert.match(text(frame.payload), message);
  assert.equal((await relay.exit()).code, 1);
}

/** Clock ticks (1/100 s) of CPU the process has used, user and system, from /proc. */
async function cpuTicks(pid: number): Promise<number> {
  // Through cat: Deno reads another process's /proc entries only with --allow-all.
  const output = await new Deno.Command("cat", { args: [`/proc/${pid}/stat`] }).output();
  assert.equal(output.code, 0, text(output.stderr));
  const stat = text(output.stdout);
  const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
  return Number(fields[11]) + Number(fields[12]);
}

/** The relay must be idle (poll blocking), not spinning: under 20% of a core over a second. */
async function assertIdle(relay: RelayProcess, what: string): Promise<void> {
  const before = await cpuTicks(relay.pid);
  await sleep(1000);
  const used = (await cpuTicks(relay.pid)) - before;
  assert.ok(used < 20, `the relay spins ${what}: ${used} ticks of CPU in 100`);
}

// ---- Starting up ----

Deno.test("relay tcp 127.0.0.1 0 sends L with a port that accepts, and frees it at stdin EOF", async () => {
  const { relay, port } = await tcpRelay();
  await using _ = relay;
  const conn = await Deno.connect({ hostname: "127.0.0.1", port });
  const opened = await relay.expect("O");
  assert.equal(text(opened.payload), `127.0.0.1 ${(conn.localAddr as Deno.NetAddr).port}`);
  assert.equal(opened.id, 1);
  const exit = await relay.stop();
  assert.deepEqual(exit, { code: 0, stderr: "" });
  // Its connections were closed, not just abandoned.
  assert.equal(await within(conn.read(new Uint8Array(1)), 5000, "EOF at the peer"), null);
  conn.close();
  await assert.rejects(
    Deno.connect({ hostname: "127.0.0.1", port }),
    Deno.errors.ConnectionRefused,
  );
});

Deno.test("relay tcp ::1 0 listens on IPv6 loopback", async () => {
  await using relay = await RelayProcess.start("tcp", "::1", "0");
  const port = Number(text((await relay.expect("L")).payload));
  const conn = await Deno.connect({ hostname: "::1", port });
  const opened = await relay.expect("O");
  assert.equal(text(opened.payload), `::1 ${(conn.localAddr as Deno.NetAddr).port}`);
  conn.close();
  assert.equal((await relay.stop()).code, 0);
});

Deno.test("relay tcp refuses a bad address or port with X and exit 1", async (t) => {
  const cases: [string, string, RegExp][] = [
    ["localhost", "0", /^address: /],
    ["127.0.0.1.5", "0", /^address: /],
    ["", "0", /^address: /],
    ["127.0.0.1", "65536", /^port: /],
    ["127.0.0.1", "-1", /^port: /],
    ["127.0.0.1", "80x", /^port: /],
    ["127.0.0.1", "", /^port: /],
    ["127.0.0.1", "99999999999999999999", /^port: /],
  ];
  for (const [address, port, message] of cases) {
    await t.step(`"${address}" "${port}"`, () => assertRefuses(["tcp", address, port], message));
  }
});

Deno.test("relay tcp refuses a port in use with X and exit 1", async () => {
  using taken = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const port = String((taken.addr as Deno.NetAddr).port);
  await assertRefuses(["tcp", "127.0.0.1", port], /^bind: Address (already )?in use$/);
});

Deno.test("relay without a valid mode prints its usage and exits 2", async (t) => {
  const binary = await relayBinary();
  for (
    const args of [[], ["tcp", "127.0.0.1"], ["unix"], ["agent", "a", "b"], ["udp", "x", "1"], [
      "wait",
      "/x",
      "10",
      "cmd",
    ]]
  ) {
    await t.step(JSON.stringify(args), async () => {
      const output = await new Deno.Command(binary, { args, stdin: "null" }).output();
      assert.equal(output.code, 2);
      assert.equal(output.stdout.length, 0);
      assert.match(text(output.stderr), /^usage: capsule-relay /);
    });
  }
});

Deno.test("relay unix creates a 0600 socket, relays, and removes it at stdin EOF", async () => {
  await withTempDir(async (dir) => {
    const path = `${dir}/forward.sock`;
    await using relay = await RelayProcess.start("unix", path);
    assert.equal(text((await relay.expect("L", 0)).payload), path);
    const info = await Deno.lstat(path);
    assert.ok(info.isSocket);
    assert.equal(info.mode! & 0o777, 0o600);
    const conn = await Deno.connect({ transport: "unix", path });
    const opened = await relay.expect("O");
    assert.equal(text(opened.payload), "");
    await writeAll(conn, bytes("to capsule"));
    assert.equal(text((await relay.expect("D", opened.id)).payload), "to capsule");
    await relay.send("D", opened.id, bytes("to the peer"));
    const buffer = new Uint8Array(64);
    const n = await conn.read(buffer);
    assert.equal(text(buffer.subarray(0, n!)), "to the peer");
    assert.equal((await relay.stop()).code, 0);
    assert.equal(await exists(path), false);
    conn.close();
  });
});

Deno.test("relay unix refuses a path that exists, and leaves it alone", async () => {
  await withTempDir(async (dir) => {
    const path = `${dir}/taken`;
    await Deno.writeTextFile(path, "someone's file");
    await assertRefuses(["unix", path], /^bind: Address (already )?in use$/);
    assert.equal(await Deno.readTextFile(path), "someone's file");
    // And a live socket is not taken over either.
    const socket = `${dir}/live.sock`;
    using _ = Deno.listen({ transport: "unix", path: socket });
    await assertRefuses(["unix", socket], /^bind: /);
    assert.ok((await Deno.lstat(socket)).isSocket);
  });
});

Deno.test("relay unix takes a path of 107 bytes and refuses 108 (sun_path)", async () => {
  await withTempDir(async (dir) => {
    const longest = `${dir}/${"s".repeat(107 - dir.length - 1)}`;
    assert.equal(longest.length, 107);
    await using relay = await RelayProcess.start("unix", longest);
    assert.equal(text((await relay.expect("L")).payload), longest);
    assert.equal((await relay.stop()).code, 0);
    assert.equal(await exists(longest), false);
    const tooLong = `${longest}x`;
    await assertRefuses(["unix", tooLong], /^socket path: File ?name too long$/);
    assert.equal(await exists(tooLong), false);
  });
});

Deno.test("relay agent makes a 0700 directory with a 0600 socket, and removes both at EOF", async () => {
  await withTempDir(async (dir) => {
    const path = `${dir}/agent.x1/agent.sock`;
    await using relay = await RelayProcess.start("agent", path);
    assert.equal(text((await relay.expect("L", 0)).payload), path);
    const directory = await Deno.lstat(`${dir}/agent.x1`);
    assert.ok(directory.isDirectory);
    assert.equal(directory.mode! & 0o777, 0o700);
    const socket = await Deno.lstat(path);
    assert.ok(socket.isSocket);
    assert.equal(socket.mode! & 0o777, 0o600);
    const conn = await Deno.connect({ transport: "unix", path });
    const opened = await relay.expect("O");
    await writeAll(conn, bytes("\0\0\0\x01\x0b"));
    assert.deepEqual([...(await relay.expect("D", opened.id)).payload], [0, 0, 0, 1, 11]);
    conn.close();
    assert.equal((await relay.stop()).code, 0);
    assert.equal(await exists(`${dir}/agent.x1`), false);
  });
});

Deno.test("relay agent refuses a directory that exists (no squatting) and leaves it alone", async (t) => {
  await withTempDir(async (dir) => {
    await t.step("a directory", async () => {
      await Deno.mkdir(`${dir}/squat`, { mode: 0o777 });
      await Deno.writeTextFile(`${dir}/squat/planted`, "x");
      await assertRefuses(["agent", `${dir}/squat/agent.sock`], /^agent directory: File exists$/);
      assert.equal(await exists(`${dir}/squat/agent.sock`), false);
      assert.equal(await Deno.readTextFile(`${dir}/squat/planted`), "x");
    });
    await t.step("an empty directory (a relay that refused must not remove it)", async () => {
      await Deno.mkdir(`${dir}/empty`);
      await assertRefuses(["agent", `${dir}/empty/agent.sock`], /^agent directory: /);
      assert.ok((await Deno.lstat(`${dir}/empty`)).isDirectory);
    });
    await t.step("a symbolic link to a directory", async () => {
      await Deno.mkdir(`${dir}/target`);
      await Deno.symlink(`${dir}/target`, `${dir}/link`);
      await assertRefuses(["agent", `${dir}/link/agent.sock`], /^agent directory: File exists$/);
      assert.deepEqual([...Deno.readDirSync(`${dir}/target`)], []);
    });
    await t.step("a dangling symbolic link", async () => {
      await Deno.symlink(`${dir}/nowhere`, `${dir}/dangling`);
      await assertRefuses(["agent", `${dir}/dangling/agent.sock`], /^agent directory: /);
      assert.equal(await exists(`${dir}/nowhere`), false);
    });
    await t.step("a path too long, refused before any directory is made", async () => {
      const path = `${dir}/fresh/${"a".repeat(120)}`;
      await assertRefuses(["agent", path], /^socket path: File ?name too long$/);
      assert.equal(await exists(`${dir}/fresh`), false);
    });
  });
});

// ---- Data ----

Deno.test("relay carries 8 MiB each way byte-exact, never beyond the windows", async () => {
  const { relay, port } = await tcpRelay();
  await using _ = relay;
  const traffic = new RelayTraffic(relay, () => "lazy");
  const up = randomBytes(8 * 1024 * 1024);
  const down = randomBytes(8 * 1024 * 1024);
  const conn = await Deno.connect({ hostname: "127.0.0.1", port });
  try {
    const flow = await traffic.flowFrom((conn.localAddr as Deno.NetAddr).port);
    const peerWrites = writeAll(conn, up).then(() => conn.closeWrite());
    const peerReads = readAll(conn);
    await within(traffic.send(flow, down, { chunk: 50_000 }), 60_000, "capsule's 8 MiB out");
    await relay.send("E", flow.id);
    await within(peerWrites, 60_000, "the peer's 8 MiB in");
    const read = await within(peerReads, 60_000, "the peer reading to EOF");
    await traffic.until(() => flow.closed, 60_000, "E and C from the relay");
    assert.deepEqual(traffic.violations, []);
    assert.deepEqual(read, { length: down.length, sha256: sha256(down) });
    assert.equal(flow.received, up.length);
    assert.equal(flow.receivedHash.digest("hex"), sha256(up));
    assert.ok(flow.eof);
    // The relay used its whole window (the lazy reader gave credit back only then) and no more.
    assert.equal(flow.maxOutstanding, WINDOW);
    // Every byte capsule sent was acknowledged once written.
    assert.equal(flow.acked, down.length);
    assert.deepEqual(relay.log.filter((entry) => /^[EC]/.test(entry)), ["E1", "C1"]);
    assert.equal((await relay.stop()).code, 0);
  } finally {
    conn.close();
  }
});

Deno.test("relay passes the peer's EOF on and keeps the other direction open", async () => {
  const { relay, port } = await tcpRelay();
  await using _ = relay;
  const conn = await Deno.connect({ hostname: "127.0.0.1", port });
  try {
    const { id } = await relay.expect("O");
    await writeAll(conn, bytes("last words"));
    await conn.closeWrite();
    assert.equal(text((await relay.expect("D", id)).payload), "last words");
    await relay.expect("E", id);
    // Half-closed: capsule's data still reaches the peer, in several frames.
    await relay.send("D", id, bytes("still "));
    await relay.send("D", id, bytes("here"));
    const buffer = new Uint8Array(64);
    let got = "";
    while (got.length < 10) got += text(buffer.subarray(0, (await conn.read(buffer))!));
    assert.equal(got, "still here");
    // One window frame per write to the socket: one or two, as the two frames were read.
    let acknowledged = 0;
    while (acknowledged < 10) acknowledged += windowBytes((await relay.expect("W", id)).payload);
    assert.equal(acknowledged, 10);
    // Not closed yet: the relay waits for capsule's side.
    await sleep(100);
    assert.deepEqual(relay.queued, []);
    await relay.send("E", id);
    assert.equal(await within(conn.read(buffer), 5000, "EOF at the peer"), null);
    await relay.expect("C", id);
    assert.equal((await relay.stop()).code, 0);
  } finally {
    conn.close();
  }
});

Deno.test("relay shuts the socket's write side at capsule's E, after the data before it", async () => {
  const { relay, port } = await tcpRelay();
  await using _ = relay;
  const conn = await Deno.connect({ hostname: "127.0.0.1", port });
  try {
    const { id } = await relay.expect("O");
    // Data and E in one write: the E must wait for the data to be out.
    const data = randomBytes(200_000);
    await relay.write(
      new Uint8Array([...encodeRelayFrame("D", id, data), ...encodeRelayFrame("E", id)]),
    );
    assert.deepEqual(await within(readAll(conn), 10_000, "the peer to EOF"), {
      length: data.length,
      sha256: sha256(data),
    });
    // The peer can still talk back.
    await writeAll(conn, bytes("reply"));
    assert.equal(text((await relay.next((f) => f.type === "D")).payload), "reply");
    await conn.closeWrite();
    await relay.next((f) => f.type === "E" && f.id === id);
    await relay.next((f) => f.type === "C" && f.id === id);
    assert.deepEqual(relay.queued.filter((f) => f.type !== "W"), []);
    assert.deepEqual(relay.log.filter((entry) => /^[EC]/.test(entry)), ["E1", "C1"]);
    assert.equal((await relay.stop()).code, 0);
  } finally {
    conn.close();
  }
});

Deno.test("relay closes a connection at capsule's C without answering, and ignores its id after", async () => {
  const { relay, port } = await tcpRelay();
  await using _ = relay;
  const conn = await Deno.connect({ hostname: "127.0.0.1", port });
  try {
    const { id } = await relay.expect("O");
    await relay.send("C", id);
    assert.equal(await within(conn.read(new Uint8Array(8)), 5000, "EOF at the peer"), null);
    // Late frames for the closed id (capsule's in flight) are ignored, even a D beyond the window.
    await relay.send("D", id, new Uint8Array(WINDOW + 1));
    await relay.send("W", id, windowPayload(100));
    await relay.send("E", id);
    await relay.send("C", id);
    // Still serving: a new connection gets a new id.
    const second = await Deno.connect({ hostname: "127.0.0.1", port });
    const opened = await relay.expect("O");
    assert.equal(opened.id, id + 1);
    second.close();
    await relay.expect("E", opened.id);
    assert.deepEqual(relay.queued, []);
    assert.equal((await relay.stop()).code, 0);
  } finally {
    conn.close();
  }
});

Deno.test("relay serves 50 connections at once, each byte-exact, past a stalled one", async () => {
  const { relay, port } = await tcpRelay();
  await using _ = relay;
  const stalledPeer = await Deno.connect({ hostname: "127.0.0.1", port });
  const stalledPort = (stalledPeer.localAddr as Deno.NetAddr).port;
  const traffic = new RelayTraffic(relay, (peer) => {
    if (peer.endsWith(` ${stalledPort}`)) return "none";
    return Number(peer.split(" ")[1]) % 2 ? "eager" : "lazy";
  });
  const conns: Deno.Conn[] = [stalledPeer];
  try {
    // The stalled connection's peer sends more than a window; capsule reads none of it.
    const stalledData = randomBytes(3 * WINDOW);
    const stalledWrites = writeAll(stalledPeer, stalledData);
    const stalled = await traffic.flowFrom(stalledPort);
    const runs = Array.from({ length: 50 }, async (_, i) => {
      const conn = await Deno.connect({ hostname: "127.0.0.1", port });
      conns.push(conn);
      const flow = await traffic.flowFrom((conn.localAddr as Deno.NetAddr).port);
      const up = randomBytes(100_000 + i * 7919);
      const down = randomBytes(300_000 - i * 3001);
      const peerWrites = writeAll(conn, up).then(() => conn.closeWrite());
      const peerReads = readAll(conn);
      await traffic.send(flow, down, { chunk: 16_000 + i * 1000 });
      await relay.send("E", flow.id);
      await peerWrites;
      assert.deepEqual(await peerReads, { length: down.length, sha256: sha256(down) }, `#${i}`);
      await traffic.until(() => flow.closed, 30_000, `C for connection #${i}`);
      assert.equal(flow.receivedHash.digest("hex"), sha256(up), `#${i}`);
      return flow.id;
    });
    const ids = await within(Promise.all(runs), 90_000, "50 connections");
    assert.equal(new Set(ids).size, 50);
    assert.deepEqual(traffic.violations, []);
    // The stalled one holds exactly its window, no more, and every other finished meanwhile.
    await traffic.until(() => stalled.received === WINDOW, 10_000, "a full window");
    await sleep(200);
    assert.equal(stalled.received, WINDOW);
    // Each grant lets exactly that much more through.
    await traffic.grant(stalled, 1000);
    await traffic.until(() => stalled.received === WINDOW + 1000, 10_000, "1000 bytes more");
    await sleep(200);
    assert.equal(stalled.received, WINDOW + 1000);
    // A huge grant is capped at the window (the relay never holds more than it).
    await traffic.grant(stalled, 0xffffffff);
    await traffic.until(() => stalled.received === 2 * WINDOW + 1000, 10_000, "a window more");
    await sleep(200);
    assert.equal(stalled.received, 2 * WINDOW + 1000);
    // Then the reader catches up and gets every byte.
    await traffic.grant(stalled, WINDOW);
    await traffic.until(() => stalled.received === 3 * WINDOW, 10_000, "the rest");
    await within(stalledWrites, 10_000, "the stalled peer's write");
    assert.equal(stalled.receivedHash.digest("hex"), sha256(stalledData));
    assert.deepEqual(traffic.violations, []);
    assert.equal((await relay.stop()).code, 0);
  } finally {
    for (const conn of conns) conn.close();
  }
});

Deno.test("relay accepts at most 256 connections and takes the next when one goes", async () => {
  const { relay, port } = await tcpRelay();
  await using _ = relay;
  const conns: Deno.Conn[] = [];
  try {
    for (let i = 0; i < 256; i++) {
      conns.push(await Deno.connect({ hostname: "127.0.0.1", port }));
      await relay.expect("O", i + 1);
    }
    // The 257th waits in the backlog, not accepted (and not closed).
    const waiting = await Deno.connect({ hostname: "127.0.0.1", port });
    conns.push(waiting);
    await sleep(200);
    assert.deepEqual(relay.queued, []);
    await relay.send("C", 17);
    const opened = await relay.expect("O", 257);
    assert.equal(text(opened.payload), `127.0.0.1 ${(waiting.localAddr as Deno.NetAddr).port}`);
    await writeAll(waiting, bytes("in"));
    assert.equal(text((await relay.expect("D", 257)).payload), "in");
    assert.equal((await relay.stop()).code, 0);
  } finally {
    for (const conn of conns) conn.close();
  }
});

// ---- Hostile input on stdin ----

Deno.test("relay exits with X on a frame type it does not take", async (t) => {
  for (const type of ["Z", "\0", "L", "O", "X", "d"]) {
    await t.step(JSON.stringify(type), async () => {
      const { relay } = await tcpRelay();
      await using _ = relay;
      const frame = encodeRelayFrame("C", 1);
      frame[0] = type.charCodeAt(0);
      await assertFatal(relay, frame, /^frame: Protocol error$/);
    });
  }
});

Deno.test("relay exits with X on a control frame with a malformed payload", async (t) => {
  const header = (type: string, length: number) => {
    const frame = encodeRelayFrame("C", 1);
    frame[0] = type.charCodeAt(0);
    new DataView(frame.buffer).setUint32(5, length);
    return frame;
  };
  // An oversized length is refused from the header alone: no payload is sent (or waited for).
  for (const [type, length] of [["W", 5], ["E", 5], ["C", 8], ["W", 0xffffffff], ["E", 1 << 20]]) {
    await t.step(`${type} with ${length} bytes`, async () => {
      const { relay } = await tcpRelay();
      await using _ = relay;
      await assertFatal(relay, header(type as string, length as number), /^frame: Protocol error$/);
    });
  }
  // A window without its 4-byte count must not be read from stale bytes.
  for (const length of [0, 3]) {
    await t.step(`W with ${length} bytes`, async () => {
      const { relay } = await tcpRelay();
      await using _ = relay;
      await assertFatal(
        relay,
        new Uint8Array([...header("W", length), ...new Uint8Array(length)]),
        /^frame: Protocol error$/,
      );
    });
  }
});

Deno.test("relay exits with X when capsule sends beyond the window", async () => {
  const { relay, port } = await tcpRelay();
  await using _ = relay;
  // A peer that never reads: what the kernel does not take, the relay must hold, up to its window.
  const conn = await Deno.connect({ hostname: "127.0.0.1", port });
  try {
    const { id } = await relay.expect("O");
    const chunk = encodeRelayFrame("D", id, new Uint8Array(64 * 1024));
    let sent = 0;
    const flood = (async () => {
      // Ignoring every W; bounded, far more than the kernel's buffers take.
      while (sent < 128 * 1024 * 1024 && relay.queued.every((f) => f.type !== "X")) {
        await relay.write(chunk);
        sent += chunk.length;
      }
    })();
    await flood.catch(() => {}); // the pipe breaks once the relay is gone
    const frame = await relay.next((f) => f.type === "X");
    assert.equal(text(frame.payload), "window exceeded: Protocol error");
    assert.equal((await relay.exit()).code, 1);
  } finally {
    conn.close();
  }
});

/**
 * Sends `flow`'s peer (which does not read) data within the relay's window
 * until the socket takes no more and the relay holds exactly a window of it;
 * returns what was sent.
 */
async function fillWindow(relay: RelayProcess, traffic: RelayTraffic, flow: Flow) {
  const parts: Uint8Array[] = [];
  while (true) {
    const credit = WINDOW - (flow.sent - flow.acked);
    if (credit === 0) {
      // No credit: the relay holds a window, unless a late W says the socket took more.
      await sleep(300);
      if (flow.sent - flow.acked === WINDOW) break;
      continue;
    }
    const part = randomBytes(credit);
    parts.push(part);
    await traffic.send(flow, part);
    await sleep(100);
  }
  assert.ok(relay.queued.length === 0 && !flow.closed, "the relay kept running");
  return new Uint8Array(parts.flatMap((part) => [...part]));
}

Deno.test("relay holds exactly a window for a peer that does not read, and not a byte more", async (t) => {
  await withTempDir(async (dir) => {
    // A unix socket: its buffer is small, so the relay soon holds the window.
    const path = `${dir}/s.sock`;
    for (const extra of [0, 1]) {
      await t.step(extra ? "a byte more: X" : "a full window: relayed", async () => {
        await using relay = await RelayProcess.start("unix", path);
        await relay.expect("L");
        const conn = await Deno.connect({ transport: "unix", path });
        try {
          const traffic = new RelayTraffic(relay, () => "none");
          const flow = await traffic.until(() => traffic.flows.get(1), 5000, "O");
          const sent = await within(fillWindow(relay, traffic, flow), 20_000, "a full window");
          if (extra) {
            relay.handler = undefined;
            await assertFatal(
              relay,
              encodeRelayFrame("D", flow.id, new Uint8Array(extra)),
              /^window exceeded: /,
            );
          } else {
            const read = await within(readAll(conn, sent.length), 10_000, "the peer reading");
            assert.deepEqual(read, { length: sent.length, sha256: sha256(sent) });
            await traffic.until(() => flow.acked === flow.sent, 5000, "every byte acknowledged");
            assert.deepEqual(traffic.violations, []);
            assert.equal((await relay.stop()).code, 0);
          }
        } finally {
          conn.close();
        }
      });
    }
  });
});

Deno.test("relay ignores frames for connections it does not have", async () => {
  const { relay, port } = await tcpRelay();
  await using _ = relay;
  for (const id of [0, 1, 2, 0xffffffff]) {
    await relay.send("D", id, bytes("nobody"));
    await relay.send("W", id, windowPayload(WINDOW));
    await relay.send("E", id);
    await relay.send("C", id);
  }
  await relay.send("D", 5, new Uint8Array(3 * WINDOW)); // no window for a connection that is not there
  const conn = await Deno.connect({ hostname: "127.0.0.1", port });
  try {
    const { id } = await relay.expect("O", 1);
    await relay.send("D", id, bytes("somebody"));
    const buffer = new Uint8Array(16);
    assert.equal(text(buffer.subarray(0, (await conn.read(buffer))!)), "somebody");
    assert.deepEqual(relay.queued.filter((f) => f.type !== "W"), []);
    assert.equal((await relay.stop()).code, 0);
  } finally {
    conn.close();
  }
});

Deno.test("relay parses frames written one byte at a time", async () => {
  const { relay, port } = await tcpRelay();
  await using _ = relay;
  const conn = await Deno.connect({ hostname: "127.0.0.1", port });
  try {
    const { id } = await relay.expect("O");
    await writeAll(conn, randomBytes(WINDOW)); // uses up the relay's credit
    let received = 0;
    while (received < WINDOW) received += (await relay.expect("D", id)).payload.length;
    await writeAll(conn, bytes("after-more"));
    const stream = new Uint8Array([
      ...encodeRelayFrame("D", id, bytes("slow ")),
      ...encodeRelayFrame("D", id, new Uint8Array()),
      ...encodeRelayFrame("D", id, bytes("bytes")),
      ...encodeRelayFrame("W", id, windowPayload(5)),
      ...encodeRelayFrame("E", id),
    ]);
    for (const byte of stream) {
      await relay.write(new Uint8Array([byte]));
      await sleep(2);
    }
    assert.deepEqual(await within(readAll(conn, 10), 5000, "the peer's bytes"), {
      length: 10,
      sha256: sha256(bytes("slow bytes")),
    });
    // The W, written a byte at a time, was read whole: exactly 5 bytes more came.
    assert.equal(text((await relay.next((f) => f.type === "D")).payload), "after");
    await sleep(200);
    assert.deepEqual(relay.queued.filter((f) => f.type === "D"), []);
    assert.equal(await within(conn.read(new Uint8Array(1)), 5000, "EOF at the peer"), null);
    assert.equal((await relay.stop()).code, 0);
  } finally {
    conn.close();
  }
});

// ---- Closed peers ----

Deno.test("relay does not spin when a unix peer has gone and capsule has not answered", async (t) => {
  await withTempDir(async (dir) => {
    const path = `${dir}/s.sock`;
    await using relay = await RelayProcess.start("unix", path);
    await relay.expect("L");
    await t.step("after the peer's EOF, before capsule's E", async () => {
      const conn = await Deno.connect({ transport: "unix", path });
      const { id } = await relay.expect("O");
      await writeAll(conn, bytes("bye"));
      conn.close();
      await relay.expect("D", id);
      await relay.expect("E", id);
      await assertIdle(relay, "on a connection whose peer closed");
      await relay.send("E", id);
      await relay.expect("C", id);
    });
    await t.step("with no credit left to read the peer's EOF", async () => {
      const conn = await Deno.connect({ transport: "unix", path });
      const { id } = await relay.expect("O");
      await writeAll(conn, randomBytes(WINDOW + 10));
      let received = 0;
      while (received < WINDOW) received += (await relay.expect("D", id)).payload.length;
      conn.close();
      await assertIdle(relay, "on a connection with no credit whose peer closed");
      await relay.send("W", id, windowPayload(WINDOW));
      assert.equal((await relay.expect("D", id)).payload.length, 10);
      await relay.expect("E", id);
      await relay.send("C", id);
    });
    assert.equal((await relay.stop()).code, 0);
  });
});

// ---- wait ----

Deno.test("relay wait runs the command once the socket exists", async () => {
  await withTempDir(async (dir) => {
    const path = `${dir}/agent.sock`;
    const child = new Deno.Command(await relayBinary(), {
      args: ["wait", path, "20000", "--", "sh", "-c", 'test -S "$1" && echo there', "sh", path],
      stdout: "piped",
      stderr: "piped",
    }).spawn();
    await sleep(300);
    using _ = Deno.listen({ transport: "unix", path });
    const output = await within(child.output(), 10_000, "the command");
    assert.equal(output.code, 0, text(output.stderr));
    assert.equal(text(output.stdout), "there\n");
  });
});

Deno.test("relay wait runs the command after the timeout anyway, with its exit status", async () => {
  await withTempDir(async (dir) => {
    const binary = await relayBinary();
    const output = await within(
      new Deno.Command(binary, {
        args: ["wait", `${dir}/never`, "100", "--", "sh", "-c", "echo ran; exit 7"],
      }).output(),
      10_000,
      "the command",
    );
    assert.equal(output.code, 7);
    assert.equal(text(output.stdout), "ran\n");
    // A regular file is not the socket: it waits the whole time.
    await Deno.writeTextFile(`${dir}/file`, "");
    const started = performance.now();
    const waited = await new Deno.Command(binary, {
      args: ["wait", `${dir}/file`, "300", "--", "true"],
    }).output();
    assert.equal(waited.code, 0);
    assert.ok(performance.now() - started >= 290, "it ran before the timeout");
  });
});

Deno.test("relay wait exits 127 for a missing command and 126 for one it cannot run", async () => {
  await withTempDir(async (dir) => {
    const binary = await relayBinary();
    const missing = await new Deno.Command(binary, {
      args: ["wait", `${dir}/x`, "0", "--", "no-such-command-here"],
    }).output();
    assert.equal(missing.code, 127);
    assert.match(text(missing.stderr), /^capsule-relay: no-such-command-here: /);
    await Deno.writeTextFile(`${dir}/script`, "#!/bin/sh\necho hi\n", { mode: 0o644 });
    const denied = await new Deno.Command(binary, {
      args: ["wait", `${dir}/x`, "0", "--", `${dir}/script`],
    }).output();
    assert.equal(denied.code, 126);
    assert.equal(denied.stdout.length, 0);
  });
});
