import assert from "node:assert/strict";
import {
  encodeRelayFrame,
  MAX_RELAY_PAYLOAD,
  type RelayFrame,
  RelayFrameDecoder,
  type RelayFrameType,
  windowBytes,
  windowPayload,
} from "../../src/forward/relay_frames.ts";

const bytes = (text: string) => new TextEncoder().encode(text);

/** Frames of every type, with payloads empty, small, binary and `bigSize` bytes. */
function sampleFrames(bigSize = 70_000): RelayFrame[] {
  const big = new Uint8Array(bigSize);
  for (let i = 0; i < big.length; i++) big[i] = (i * 31 + 7) & 0xff;
  return [
    { type: "L", id: 0, payload: bytes("40123") },
    { type: "O", id: 1, payload: bytes("127.0.0.1 51234") },
    { type: "D", id: 1, payload: new Uint8Array([0, 1, 2, 0xff, 0x4c, 0, 0, 0, 9]) },
    { type: "W", id: 1, payload: windowPayload(65_536) },
    { type: "D", id: 0xffffffff, payload: big },
    { type: "E", id: 1, payload: new Uint8Array() },
    { type: "D", id: 2, payload: new Uint8Array() },
    { type: "C", id: 0x01020304, payload: new Uint8Array() },
    { type: "X", id: 0, payload: bytes("bind: Address in use") },
  ];
}

function concat(parts: Uint8Array[]): Uint8Array {
  const out = new Uint8Array(parts.reduce((n, part) => n + part.length, 0));
  let at = 0;
  for (const part of parts) {
    out.set(part, at);
    at += part.length;
  }
  return out;
}

function encodeAll(frames: RelayFrame[]): Uint8Array {
  return concat(frames.map((frame) => encodeRelayFrame(frame.type, frame.id, frame.payload)));
}

/** Frames as plain data (a payload's backing buffer must not matter), cheap to compare. */
function plain(frames: RelayFrame[]) {
  return frames.map((frame) => ({
    type: frame.type,
    id: frame.id,
    payload: frame.payload.length > 64
      ? `${frame.payload.length} bytes, ${checksum(frame.payload)}`
      : [...frame.payload],
  }));
}

/** A position-sensitive checksum: a byte moved, lost or changed shows. */
function checksum(data: Uint8Array): number {
  let sum = 0;
  for (let i = 0; i < data.length; i++) sum = (Math.imul(sum, 31) + data[i]! + i) | 0;
  return sum;
}

Deno.test("encodeRelayFrame() writes type, big-endian id and length, then the payload", () => {
  const frame = encodeRelayFrame("D", 0x01020304, bytes("hi"));
  assert.deepEqual([...frame], [0x44, 1, 2, 3, 4, 0, 0, 0, 2, 0x68, 0x69]);
  assert.deepEqual([...encodeRelayFrame("C", 7)], [0x43, 0, 0, 0, 7, 0, 0, 0, 0]);
  assert.deepEqual([...encodeRelayFrame("E", 0xffffffff)], [0x45, 255, 255, 255, 255, 0, 0, 0, 0]);
});

Deno.test("encodeRelayFrame() copies a payload that is a view into a larger buffer", () => {
  const backing = bytes("xxABCyy");
  const frame = encodeRelayFrame("D", 1, backing.subarray(2, 5));
  assert.deepEqual([...frame.subarray(5)], [0, 0, 0, 3, 0x41, 0x42, 0x43]);
});

Deno.test("RelayFrameDecoder decodes a multi-frame buffer split at every point", () => {
  const frames = sampleFrames(3000);
  const stream = encodeAll(frames);
  const expected = plain(frames);
  for (let cut = 0; cut <= stream.length; cut++) {
    const decoder = new RelayFrameDecoder();
    const got = [...decoder.push(stream.subarray(0, cut)), ...decoder.push(stream.subarray(cut))];
    assert.deepEqual(plain(got), expected, `split at ${cut}`);
    assert.equal(decoder.pendingBytes, 0, `split at ${cut}`);
  }
});

Deno.test("RelayFrameDecoder decodes a buffer split at every pair of points", () => {
  // The header and the small frames are where the bugs live; skip the 70 kB payload.
  const frames = sampleFrames().filter((frame) => frame.payload.length < 1000);
  const stream = encodeAll(frames);
  const expected = plain(frames);
  for (let a = 0; a <= stream.length; a++) {
    for (let b = a; b <= stream.length; b++) {
      const decoder = new RelayFrameDecoder();
      const got = [
        ...decoder.push(stream.subarray(0, a)),
        ...decoder.push(stream.subarray(a, b)),
        ...decoder.push(stream.subarray(b)),
      ];
      assert.deepEqual(plain(got), expected, `split at ${a} and ${b}`);
    }
  }
});

Deno.test("RelayFrameDecoder decodes a stream fed one byte at a time", () => {
  // Small enough a payload: the decoder copies what it holds on every push.
  const frames = sampleFrames(5000);
  const stream = encodeAll(frames);
  const decoder = new RelayFrameDecoder();
  const got: RelayFrame[] = [];
  for (let i = 0; i < stream.length; i++) {
    const completed = decoder.push(stream.subarray(i, i + 1));
    // A frame completes exactly on its last byte, and then nothing is held back.
    if (completed.length > 0) assert.equal(decoder.pendingBytes, 0);
    got.push(...completed);
  }
  assert.deepEqual(plain(got), plain(frames));
});

Deno.test("RelayFrameDecoder decodes chunks of random sizes, including empty ones", () => {
  const frames = sampleFrames();
  const stream = encodeAll(frames);
  let seed = 12345;
  const random = () => (seed = (seed * 1103515245 + 12345) % 2 ** 31) / 2 ** 31;
  for (let round = 0; round < 50; round++) {
    const decoder = new RelayFrameDecoder();
    const got: RelayFrame[] = [];
    for (let at = 0; at < stream.length;) {
      const size = Math.floor(random() * 20_000 * random());
      got.push(...decoder.push(stream.subarray(at, at + size)));
      at += size;
    }
    got.push(...decoder.push(new Uint8Array()));
    assert.deepEqual(plain(got), plain(frames), `round ${round}`);
  }
});

Deno.test("RelayFrameDecoder holds a partial frame until the rest comes", async (t) => {
  const stream = encodeRelayFrame("D", 5, bytes("hello"));
  await t.step("a partial header", () => {
    const decoder = new RelayFrameDecoder();
    assert.deepEqual(decoder.push(stream.subarray(0, 4)), []);
    assert.equal(decoder.pendingBytes, 4);
    assert.deepEqual(decoder.push(new Uint8Array()), []);
    assert.equal(decoder.pendingBytes, 4);
  });
  await t.step("a whole header and part of the payload", () => {
    const decoder = new RelayFrameDecoder();
    assert.deepEqual(decoder.push(stream.subarray(0, 11)), []);
    assert.equal(decoder.pendingBytes, 11);
    const frames = decoder.push(stream.subarray(11));
    assert.deepEqual(plain(frames), [{ type: "D", id: 5, payload: [...bytes("hello")] }]);
    assert.equal(decoder.pendingBytes, 0);
  });
  await t.step("whole frames followed by a partial one", () => {
    const decoder = new RelayFrameDecoder();
    const two = concat([encodeRelayFrame("E", 5), stream.subarray(0, 3)]);
    assert.deepEqual(plain(decoder.push(two)), [{ type: "E", id: 5, payload: [] }]);
    assert.equal(decoder.pendingBytes, 3);
  });
});

Deno.test("RelayFrameDecoder returns payloads that outlive the chunk they came in", () => {
  const decoder = new RelayFrameDecoder();
  const chunk = encodeRelayFrame("D", 1, bytes("abc"));
  const [frame] = decoder.push(chunk);
  chunk.fill(0);
  assert.deepEqual([...frame!.payload], [...bytes("abc")]);
  // Same when the frame was completed from held bytes.
  const second = encodeRelayFrame("D", 1, bytes("def"));
  decoder.push(second.subarray(0, 10));
  const tail = second.slice(10);
  const [held] = decoder.push(tail);
  tail.fill(0);
  second.fill(0);
  assert.deepEqual([...held!.payload], [...bytes("def")]);
});

Deno.test("RelayFrameDecoder rejects a stream that is not frames", async (t) => {
  for (const code of [0, 0x41, 0x5a, 0x64, 0xff]) {
    await t.step(`type byte ${code}`, () => {
      const frame = encodeRelayFrame("D", 1, bytes("x"));
      frame[0] = code;
      assert.throws(() => new RelayFrameDecoder().push(frame), /unknown frame type/);
    });
  }
  await t.step("an unknown type after a good frame, in the same chunk", () => {
    const bad = encodeRelayFrame("D", 1);
    bad[0] = 0x51; // "Q"
    const stream = concat([encodeRelayFrame("E", 1), bad]);
    assert.throws(() => new RelayFrameDecoder().push(stream), /unknown frame type 81/);
  });
  await t.step("an unknown type as soon as its header is whole, before its payload", () => {
    const header = encodeRelayFrame("D", 1).subarray(0, 9);
    header[0] = 0x3f;
    const decoder = new RelayFrameDecoder();
    assert.deepEqual(decoder.push(header.subarray(0, 8)), []);
    assert.throws(() => decoder.push(header.subarray(8)), /unknown frame type/);
  });
  await t.step("a payload length beyond the limit, from the header alone", () => {
    const header = new Uint8Array(9);
    header[0] = 0x44;
    new DataView(header.buffer).setUint32(5, MAX_RELAY_PAYLOAD + 1);
    // No payload follows: the decoder must not wait (and buffer) for it.
    assert.throws(() => new RelayFrameDecoder().push(header), /oversized frame \(1048577 bytes\)/);
    new DataView(header.buffer).setUint32(5, 0xffffffff);
    assert.throws(() => new RelayFrameDecoder().push(header), /oversized frame/);
  });
  await t.step("a payload exactly at the limit is a frame", () => {
    const payload = new Uint8Array(MAX_RELAY_PAYLOAD);
    payload[MAX_RELAY_PAYLOAD - 1] = 9;
    const [frame] = new RelayFrameDecoder().push(encodeRelayFrame("D", 3, payload));
    assert.equal(frame?.payload.length, MAX_RELAY_PAYLOAD);
    assert.equal(frame?.payload[MAX_RELAY_PAYLOAD - 1], 9);
  });
});

Deno.test("windowPayload() and windowBytes() round-trip any 32-bit count", () => {
  for (const n of [0, 1, 255, 256, 65_535, 65_536, 256 * 1024, 0x7fffffff, 0xffffffff]) {
    const payload = windowPayload(n);
    assert.equal(payload.length, 4);
    assert.equal(windowBytes(payload), n);
  }
  assert.deepEqual([...windowPayload(0x01020304)], [1, 2, 3, 4]);
});

Deno.test("windowBytes() reads a payload that is a view at an offset", () => {
  const backing = new Uint8Array([9, 9, 9, 0, 4, 0, 0, 9]);
  assert.equal(windowBytes(backing.subarray(3, 7)), 0x00040000);
  // And as the decoder hands it over, after other frames in the same chunk.
  const stream = concat([
    encodeRelayFrame("D", 1, bytes("abcde")),
    encodeRelayFrame("W", 1, windowPayload(12_345)),
  ]);
  const frames = new RelayFrameDecoder().push(stream);
  assert.equal(windowBytes(frames[1]!.payload), 12_345);
});

Deno.test("windowBytes() rejects a malformed window payload", () => {
  for (const length of [0, 1, 3, 5, 8]) {
    assert.throws(() => windowBytes(new Uint8Array(length)), /malformed window frame/, `${length}`);
  }
});

Deno.test("encodeRelayFrame() and the decoder round-trip every type", () => {
  const types: RelayFrameType[] = ["L", "O", "D", "E", "C", "W", "X"];
  for (const type of types) {
    const payload = bytes(`${type} payload`);
    const frames = new RelayFrameDecoder().push(encodeRelayFrame(type, 42, payload));
    assert.deepEqual(plain(frames), [{ type, id: 42, payload: [...payload] }]);
  }
});
