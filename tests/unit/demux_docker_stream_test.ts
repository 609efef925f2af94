import assert from "node:assert/strict";
import { demuxDockerStream } from "../../src/runtime/mod.ts";

function frame(type: number, text: string): Uint8Array {
  const payload = new TextEncoder().encode(text);
  const out = new Uint8Array(8 + payload.length);
  out[0] = type;
  new DataView(out.buffer).setUint32(4, payload.length);
  out.set(payload, 8);
  return out;
}

async function* chunks(bytes: Uint8Array, size: number): AsyncGenerator<Uint8Array> {
  for (let i = 0; i < bytes.length; i += size) yield bytes.subarray(i, i + size);
}

async function demux(bytes: Uint8Array, size: number) {
  const out = { stdout: "", stderr: "" };
  const dec = new TextDecoder();
  for await (const c of demuxDockerStream(chunks(bytes, size))) out[c.stream] += dec.decode(c.data);
  return out;
}

Deno.test("demuxDockerStream() splits frames however the bytes are chunked", async (t) => {
  const parts = [frame(1, "hello "), frame(2, "oops"), frame(1, "world"), frame(2, "!")];
  const bytes = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let at = 0;
  for (const p of parts) {
    bytes.set(p, at);
    at += p.length;
  }
  for (const size of [1, 3, 7, 8, 9, 1000]) {
    await t.step(`chunks of ${size}`, async () => {
      assert.deepEqual(await demux(bytes, size), { stdout: "hello world", stderr: "oops!" });
    });
  }
});

Deno.test("demuxDockerStream() yields a large frame's payload as it arrives", async () => {
  const big = frame(1, "x".repeat(100_000));
  const sizes: number[] = [];
  for await (const c of demuxDockerStream(chunks(big, 16_384))) sizes.push(c.data.length);
  assert.equal(sizes.reduce((a, b) => a + b, 0), 100_000);
  assert.ok(Math.max(...sizes) <= 16_384);
});

Deno.test("demuxDockerStream() fails on a truncated header", async () => {
  await assert.rejects(() => demux(frame(1, "abc").subarray(0, 5), 5), /inside a frame header/);
});
