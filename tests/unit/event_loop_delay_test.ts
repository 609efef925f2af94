import assert from "node:assert/strict";
import { CapsuleMetrics, EventLoopDelay } from "../../src/metrics/mod.ts";

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

Deno.test("EventLoopDelay reports how long the loop was blocked", async () => {
  const delays: number[] = [];
  const probe = new EventLoopDelay({ intervalMs: 10, observe: (s) => delays.push(s) });
  probe.start();
  probe.start(); // a second start keeps the one probe
  await sleep(15);
  // Block the loop for 200 ms: the probe's timer fires that much late.
  const until = performance.now() + 200;
  while (performance.now() < until) { /* busy */ }
  await sleep(30);
  probe.stop();
  const seen = delays.length;
  assert.ok(seen >= 2, `${seen} probes`);
  assert.ok(Math.max(...delays) >= 0.15, `largest delay ${Math.max(...delays)} s`);
  assert.ok(delays.every((d) => d >= 0));
  await sleep(40);
  assert.equal(delays.length, seen, "no probe after stop()");
});

Deno.test("the event loop's delay is a histogram of capsule's metrics", () => {
  const metrics = new CapsuleMetrics({
    version: "test",
    sources: { containers: () => ({ running: 0, warm: 0 }), auditDropped: () => 0 },
  });
  metrics.eventLoopDelay(0.0004);
  metrics.eventLoopDelay(0.3);
  const text = metrics.registry.render();
  assert.match(text, /^capsule_event_loop_delay_seconds_bucket\{le="0.001"\} 1$/m);
  assert.match(text, /^capsule_event_loop_delay_seconds_bucket\{le="0.25"\} 1$/m);
  assert.match(text, /^capsule_event_loop_delay_seconds_bucket\{le="0.5"\} 2$/m);
  assert.match(text, /^capsule_event_loop_delay_seconds_count 2$/m);
});
