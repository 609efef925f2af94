import assert from "node:assert/strict";
import { silentLogger } from "../../src/log/mod.ts";
import { forwardResizes, type WindowSize } from "../../src/session/mod.ts";

Deno.test("forwardResizes() coalesces a flood into few calls ending with the latest size", async () => {
  let listener: ((size: WindowSize) => void) | undefined;
  const controller = new AbortController();
  const calls: WindowSize[] = [];
  forwardResizes(
    { onResize: (l) => (listener = l), signal: controller.signal, logger: silentLogger() },
    (size) => {
      calls.push(size);
      return Promise.resolve();
    },
    20,
  );
  for (let i = 1; i <= 10_000; i++) listener!({ cols: i, rows: i });
  await new Promise((r) => setTimeout(r, 100));
  assert.ok(calls.length <= 3, `expected at most 3 calls, got ${calls.length}`);
  assert.deepEqual(calls.at(-1), { cols: 10_000, rows: 10_000 });
  controller.abort();
});
