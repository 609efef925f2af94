import assert from "node:assert/strict";
import { EventEmitter } from "node:events";
// @ts-types="@types/ssh2"
import type { ServerChannel } from "ssh2";
import { ChannelClosedError, ChannelIO } from "../../src/ssh/mod.ts";

/** A stand-in for ssh2's server channel whose writes complete when the test says so. */
class SlowChannel extends EventEmitter {
  issued: string[] = [];
  pending: (() => void)[] = [];
  exits: unknown[][] = [];
  ended = false;
  _chunk: unknown = "stale";
  stderr = {
    write: (data: Uint8Array, cb: () => void) => this.#write("err", data, cb),
  };
  write(data: Uint8Array, cb: () => void) {
    this.#write("out", data, cb);
  }
  #write(stream: string, data: Uint8Array, cb: () => void) {
    this.issued.push(`${stream}:${new TextDecoder().decode(data)}`);
    this.pending.push(cb);
  }
  read() {
    return null;
  }
  exit(...args: unknown[]) {
    this.exits.push(args);
  }
  end() {
    this.ended = true;
  }
  release() {
    this.pending.shift()?.();
  }
}

const enc = (s: string) => new TextEncoder().encode(s);
const tick = () => new Promise((r) => setTimeout(r, 0));

Deno.test("ChannelIO keeps one write in flight across stdout and stderr", async () => {
  const fake = new SlowChannel();
  const io = new ChannelIO(fake as unknown as ServerChannel);
  const a = io.write("stdout", enc("a"));
  const b = io.write("stderr", enc("b"));
  const c = io.write("stdout", enc("c"));
  await tick();
  assert.deepEqual(fake.issued, ["out:a"]);
  fake.release();
  await a;
  await tick();
  assert.deepEqual(fake.issued, ["out:a", "err:b"]);
  assert.equal(fake._chunk, undefined, "a stalled chunk is cleared after its callback");
  fake.release();
  await b;
  await tick();
  fake.release();
  await c;
  assert.deepEqual(fake.issued, ["out:a", "err:b", "out:c"]);
});

Deno.test("ChannelIO sends the exit status after pending writes, and rejects writes once closed", async () => {
  const fake = new SlowChannel();
  const io = new ChannelIO(fake as unknown as ServerChannel);
  const write = io.write("stdout", enc("x"));
  io.finish({ code: 3 });
  await tick();
  assert.deepEqual(fake.exits, [], "exit waits for the write");
  fake.release();
  await write;
  await tick();
  assert.deepEqual(fake.exits, [[3]]);
  assert.equal(fake.ended, true);
  await assert.rejects(() => io.write("stdout", enc("late")), ChannelClosedError);
});

Deno.test("ChannelIO rejects a write stalled when the client closes the channel", async () => {
  const fake = new SlowChannel();
  const io = new ChannelIO(fake as unknown as ServerChannel);
  const write = io.write("stdout", enc("stuck"));
  await tick();
  io.closed();
  await assert.rejects(() => write, ChannelClosedError);
});
