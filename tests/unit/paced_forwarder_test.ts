import assert from "node:assert/strict";
import { silentLogger } from "../../src/log/mod.ts";
import { pacedForwarder } from "../../src/session/mod.ts";

Deno.test("pacedForwarder() turns a flood into few calls ending with the latest value", async () => {
  const controller = new AbortController();
  const calls: number[] = [];
  const push = pacedForwarder((n: number) => {
    calls.push(n);
    return Promise.resolve();
  }, { intervalMs: 20, signal: controller.signal, logger: silentLogger(), failureEvent: "x" });
  for (let i = 1; i <= 10_000; i++) push(i);
  await new Promise((r) => setTimeout(r, 100));
  assert.ok(calls.length <= 3, `expected at most 3 calls, got ${calls.length}`);
  assert.equal(calls.at(-1), 10_000);
  controller.abort();
});

Deno.test("pacedForwarder() keeps going after a failed call", async () => {
  const controller = new AbortController();
  const calls: number[] = [];
  const push = pacedForwarder((n: number) => {
    calls.push(n);
    return n === 1 ? Promise.reject(new Error("engine said no")) : Promise.resolve();
  }, { intervalMs: 1, signal: controller.signal, logger: silentLogger(), failureEvent: "x" });
  push(1);
  await new Promise((r) => setTimeout(r, 20));
  push(2);
  await new Promise((r) => setTimeout(r, 20));
  assert.deepEqual(calls, [1, 2]);
  controller.abort();
});
