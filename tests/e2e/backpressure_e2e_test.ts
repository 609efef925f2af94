/**
 * End to end: memory stays bounded when one side stops reading. A client that
 * stops reading while the container writes 512 MiB, and a container that
 * stops reading while the client writes 512 MiB, must each leave the server's
 * resident memory within 64 MiB of where it started, and every byte must
 * still arrive once the stall ends.
 */
import assert from "node:assert/strict";
import { createHash } from "node:crypto";
import { startDemoCapsule } from "../helpers/demo_capsule.ts";
import { assertNoContainersLeft, requireEngine } from "../helpers/docker.ts";
import { connectSsh2, openChannel } from "../helpers/ssh_client.ts";
import { peakRss, rssOf } from "../helpers/rss.ts";

const TOTAL = 512 * 1024 * 1024;
const STALL_MS = 20_000;
const LIMIT = 64 * 1024 * 1024;
/** The repeating pattern both sides can produce: `yes` prints this line forever. */
const LINE = "capsule backpressure test line\n";

/** The first `size` bytes of `yes "$LINE"` and their SHA-256. */
function pattern(
  size: number,
): { chunk: (offset: number, length: number) => Uint8Array; digest: string } {
  const unit = new TextEncoder().encode(LINE);
  const block = new Uint8Array(unit.length * 4096);
  for (let i = 0; i < 4096; i++) block.set(unit, i * unit.length);
  const chunk = (offset: number, length: number) => {
    const out = new Uint8Array(length);
    for (let at = 0; at < length;) {
      const start = (offset + at) % unit.length;
      const take = Math.min(length - at, block.length - start);
      out.set(block.subarray(start, start + take), at);
      at += take;
    }
    return out;
  };
  const hash = createHash("sha256");
  for (let at = 0; at < size; at += block.length) {
    hash.update(chunk(at, Math.min(block.length, size - at)));
  }
  return { chunk, digest: hash.digest("hex") };
}

Deno.test("end to end: memory stays bounded under backpressure", async (t) => {
  await requireEngine();
  const { capsule, login } = await startDemoCapsule();
  const expected = pattern(TOTAL);
  const text = LINE.trimEnd();

  try {
    await t.step("a client that stops reading for 20 s", async () => {
      const client = await connectSsh2(login);
      try {
        const channel = await openChannel(client, { exec: `yes '${text}' | head -c ${TOTAL}` });
        const hash = createHash("sha256");
        let received = 0;
        channel.on("data", (d: Uint8Array) => {
          hash.update(d);
          received += d.length;
        });
        const closed = new Promise((resolve) => channel.on("close", resolve));
        // Take the first bytes, then stop reading: the window runs out.
        await new Promise((r) => setTimeout(r, 1000));
        channel.pause();
        await new Promise((r) => setTimeout(r, 1000));
        const baseline = await rssOf(capsule.pid);
        const stall = new Promise((r) => setTimeout(r, STALL_MS));
        const peak = await peakRss(capsule.pid, stall);
        assert.ok(
          peak - baseline <= LIMIT,
          `server RSS grew by ${((peak - baseline) / 2 ** 20).toFixed(1)} MiB during the stall`,
        );
        assert.ok(received < TOTAL, "the stall really held the output back");
        channel.resume();
        await closed;
        assert.equal(received, TOTAL);
        assert.equal(hash.digest("hex"), expected.digest);
      } finally {
        client.end();
      }
      await assertNoContainersLeft(15_000, capsule.instance);
    });

    await t.step("a container that stops reading for 20 s", async () => {
      const client = await connectSsh2(login);
      try {
        const channel = await openChannel(client, { exec: "sleep 20; sha256sum" });
        let output = "";
        channel.on("data", (d: Uint8Array) => (output += new TextDecoder().decode(d)));
        const closed = new Promise<number>((resolve) =>
          channel.on("exit", (code: number) => resolve(code))
        );
        const baseline = await rssOf(capsule.pid);
        let sent = 0;
        const writing = (async () => {
          const size = 256 * 1024;
          while (sent < TOTAL) {
            const length = Math.min(size, TOTAL - sent);
            const ok = channel.write(expected.chunk(sent, length));
            sent += length;
            if (!ok) await new Promise((r) => channel.once("drain", r));
          }
          channel.end();
        })();
        const stall = new Promise((r) => setTimeout(r, STALL_MS - 2000));
        const peak = await peakRss(capsule.pid, stall);
        assert.ok(
          peak - baseline <= LIMIT,
          `server RSS grew by ${((peak - baseline) / 2 ** 20).toFixed(1)} MiB during the stall`,
        );
        assert.ok(sent < TOTAL, "the stall really held the input back");
        await writing;
        assert.equal(await closed, 0);
        await new Promise((r) => setTimeout(r, 200));
        assert.equal(output.trim().split(/\s+/)[0], expected.digest);
      } finally {
        client.end();
      }
      await assertNoContainersLeft(15_000, capsule.instance);
    });
  } finally {
    assert.equal(await capsule.stop(), 0);
  }
});
