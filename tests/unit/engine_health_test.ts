import assert from "node:assert/strict";
import { EngineHealth } from "../../src/metrics/mod.ts";

Deno.test("EngineHealth is ok after a ping answered, not after one failed", async () => {
  let up = true;
  const health = new EngineHealth({
    ping: () => (up ? Promise.resolve() : Promise.reject(new Error("down"))),
    intervalMs: 20,
  });
  assert.equal(health.ok, false, "no answer yet");
  health.start();
  await new Promise((r) => setTimeout(r, 5));
  assert.equal(health.ok, true);
  up = false;
  await new Promise((r) => setTimeout(r, 60));
  assert.equal(health.ok, false);
  await health.stop();
});
