import assert from "node:assert/strict";
import { type LogOutput, StderrWriter } from "../../src/log/stderr_writer.ts";

const encoder = new TextEncoder();
const decoder = new TextDecoder();
const line = (text: string) => encoder.encode(`${text}\n`);

/** An output whose asynchronous writes wait until `release()`; takes at most `chunk` bytes a write. */
function stalledOutput(chunk = Infinity) {
  let gate = Promise.withResolvers<void>();
  const received: string[] = [];
  const output: LogOutput = {
    async write(bytes) {
      await gate.promise;
      const n = Math.min(bytes.length, chunk);
      received.push(decoder.decode(bytes.subarray(0, n)));
      return n;
    },
    writeSync(bytes) {
      received.push(decoder.decode(bytes));
      return bytes.length;
    },
  };
  return {
    output,
    text: () => received.join(""),
    release: () => gate.resolve(),
    stall: () => gate = Promise.withResolvers<void>(),
  };
}

Deno.test("StderrWriter never waits for a reader that does not read, and keeps the order", async () => {
  const out = stalledOutput(7);
  const writer = new StderrWriter((n) => line(`dropped ${n}`), out.output, 1024);
  for (let i = 0; i < 20; i++) writer.write(line(`line ${i}`)); // returns although nothing is read
  assert.equal(out.text(), "");
  out.release();
  await writer.drained(1_000);
  assert.equal(out.text(), Array.from({ length: 20 }, (_, i) => `line ${i}\n`).join(""));
});

Deno.test("StderrWriter drops what exceeds its limit and says how much once it has drained", async () => {
  const out = stalledOutput();
  const writer = new StderrWriter((n) => line(`dropped ${n}`), out.output, 40);
  // 7 bytes each: line 0 goes into the write in flight, 5 more fit in the 40 that may wait.
  for (let i = 0; i < 10; i++) writer.write(line(`line ${i}`));
  assert.equal(writer.dropped, 4);
  out.release();
  await writer.drained(1_000);
  assert.equal(out.text(), "line 0\nline 1\nline 2\nline 3\nline 4\nline 5\ndropped 4\n");
  assert.equal(writer.dropped, 0);
  writer.write(line("after"));
  await writer.drained(1_000);
  assert.match(out.text(), /dropped 4\nafter\n$/);
});

Deno.test("StderrWriter: drained() gives up after its timeout; flushSync() writes what is not in flight", async () => {
  const out = stalledOutput();
  const writer = new StderrWriter((n) => line(`dropped ${n}`), out.output);
  writer.write(line("first"));
  const started = performance.now();
  await writer.drained(50);
  assert.ok(performance.now() - started >= 40, "waited for its timeout");
  writer.flushSync(); // an asynchronous write is in flight: nothing may cut in
  assert.equal(out.text(), "");
  out.release();
  await writer.drained(1_000);
  assert.equal(out.text(), "first\n");

  const idle = stalledOutput();
  idle.release();
  const second = new StderrWriter((n) => line(`dropped ${n}`), idle.output);
  second.flushSync(); // nothing waiting: nothing written
  assert.equal(idle.text(), "");
});

Deno.test("StderrWriter goes quiet when standard error is gone", async () => {
  const failing: LogOutput = {
    write: () => Promise.reject(new Error("broken pipe")),
    writeSync: () => {
      throw new Error("broken pipe");
    },
  };
  const writer = new StderrWriter((n) => line(`dropped ${n}`), failing);
  writer.write(line("lost"));
  await writer.drained(1_000);
  writer.write(line("also lost")); // no throw, no unhandled rejection
  writer.flushSync();
});
