import assert from "node:assert/strict";
import { type ContainerConfig, defaultConfig } from "../../src/config/mod.ts";
import { FreshContainers, WarmPool } from "../../src/lifecycle/mod.ts";
import { silentLogger } from "../../src/log/mod.ts";
import { FakeRuntime } from "../helpers/fake_runtime.ts";
import { fakeSessionContext } from "../helpers/fake_session_context.ts";

const pooled = (size: number, over: Partial<ContainerConfig> = {}): ContainerConfig => ({
  ...defaultConfig().container,
  pool: { size },
  ...over,
});

function setup() {
  const runtime = new FakeRuntime();
  const live = new Set<string>();
  const pool = new WarmPool(runtime, {
    instance: "t",
    live,
    logger: silentLogger(),
    fallback: new FreshContainers(runtime, "t", live),
    retryMs: 20,
  });
  return { runtime, live, pool };
}

/** Waits until `done()` or fails after a second. */
async function until(done: () => boolean): Promise<void> {
  for (let i = 0; i < 100 && !done(); i++) await new Promise((r) => setTimeout(r, 10));
  assert.ok(done(), "condition not reached");
}

Deno.test("WarmPool fills to size, hands each container to one session and refills", async () => {
  const { runtime, live, pool } = setup();
  const config = pooled(2);
  pool.configure([config]);
  await until(() => pool.ready === 2);
  const [first] = runtime.callsOf("start");
  assert.equal(first?.spec.labels["io.capsule.mode"], "pool");
  assert.match(first?.spec.labels["io.capsule.owner"] ?? "", /^pool:/);
  assert.equal(live.size, 2);

  const a = await pool.launch(fakeSessionContext({ id: "sa" }), config);
  const b = await pool.launch(fakeSessionContext({ id: "sb" }), config);
  assert.notEqual(a.process.containerId, b.process.containerId);
  assert.deepEqual(runtime.callsOf("exec").map((c) => c.spec.id), ["sa", "sb"]);
  assert.equal(runtime.callsOf("run").length, 0, "served from the pool, not created");
  await until(() => pool.ready === 2);

  // After its session, a pooled container is removed, never handed out again.
  await a.release();
  assert.deepEqual(runtime.callsOf("remove").map((c) => c.id), [a.process.containerId]);
  const c = await pool.launch(fakeSessionContext({ id: "sc" }), config);
  assert.ok(![a.process.containerId, b.process.containerId].includes(c.process.containerId));
  await b.release();
  await c.release();
  await pool.close();
  assert.equal(runtime.live.size, 0);
  assert.equal(live.size, 0);
});

Deno.test("WarmPool falls back to a fresh container when empty, off or not configured", async () => {
  const { runtime, pool } = setup();
  let open!: () => void;
  runtime.startGate = new Promise((r) => (open = r)); // the pool cannot fill yet
  pool.configure([pooled(2)]);
  const placed = await pool.launch(fakeSessionContext(), pooled(2));
  assert.equal(runtime.callsOf("run").length, 1, "empty: a fresh container");
  await placed.release();
  const off = await pool.launch(fakeSessionContext(), pooled(0));
  assert.equal(runtime.callsOf("run").length, 2, "off: a fresh container");
  await off.release();
  // A profile the operator did not list (e.g. a user's own mounts) holds no warm containers.
  const other = await pool.launch(fakeSessionContext(), pooled(2, { image: "other" }));
  assert.equal(runtime.callsOf("run").length, 3, "not configured: a fresh container");
  await other.release();
  assert.ok(!runtime.callsOf("start").some((c) => c.spec.image === "other"));
  open();
  await pool.close();
  assert.equal(runtime.live.size, 0);
});

Deno.test("WarmPool retries a failed fill and empties on close", async () => {
  const { runtime, live, pool } = setup();
  runtime.failStart = new Error("engine down");
  pool.configure([pooled(1)]);
  await until(() => runtime.callsOf("start").length >= 2);
  assert.equal(pool.ready, 0);
  runtime.failStart = undefined;
  await until(() => pool.ready === 1);
  await pool.close();
  assert.equal(runtime.live.size, 0);
  assert.equal(live.size, 0);
});

Deno.test("WarmPool empties the pools of profiles a reload removed", async () => {
  const { runtime, pool } = setup();
  pool.configure([pooled(1, { image: "one" })]);
  await until(() => pool.ready === 1);
  pool.configure([pooled(1, { image: "two" })]);
  await until(() => runtime.callsOf("remove").length === 1 && pool.ready === 1);
  const images = runtime.callsOf("start").map((c) => c.spec.image);
  assert.deepEqual(images, ["one", "two"]);
  await pool.close();
  assert.equal(runtime.live.size, 0);
});

Deno.test("WarmPool replaces a waiting container at its maximum lifetime", async () => {
  const { runtime, pool } = setup();
  pool.configure([pooled(1, { maxLifetime: 1 })]);
  await until(() => pool.ready === 1);
  const [first] = runtime.callsOf("start");
  await new Promise((r) => setTimeout(r, 1100));
  await until(() => runtime.callsOf("remove").some((c) => c.id === first?.id) && pool.ready === 1);
  assert.equal(runtime.callsOf("start").length, 2, "refilled with a new one");
  await pool.close();
  assert.equal(runtime.live.size, 0);
});
