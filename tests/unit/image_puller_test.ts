import assert from "node:assert/strict";
import type { RegistryConfig } from "../../src/config/mod.ts";
import { CapsuleError } from "../../src/errors/mod.ts";
import { ImagePuller, PrePuller, PullTally, registryAuthFor } from "../../src/images/mod.ts";
import { createLogger, type LogRecord } from "../../src/log/mod.ts";
import type { PullProgress } from "../../src/runtime/mod.ts";
import { FakeRuntime } from "../helpers/fake_runtime.ts";

const IMAGE = "registry.example:5000/team/app:1";
const SECRET = "hunter2-registry-secret";
const REGISTRIES: Record<string, RegistryConfig> = {
  "registry.example:5000": { username: "capsule", password: SECRET },
  "other.example": { username: "x", password: "other-secret" },
};

function setUp(options: { refreshIntervalMs?: number } = {}) {
  const runtime = new FakeRuntime();
  const logs: LogRecord[] = [];
  const puller = new ImagePuller(runtime, {
    logger: createLogger({ level: "debug", sink: (record) => logs.push(record) }),
    registries: REGISTRIES,
    refreshIntervalMs: options.refreshIntervalMs ?? 300_000,
  });
  const pulls = () => logs.filter((r) => r.event === "image.pull").map((r) => r["state"]);
  return { runtime, logs, puller, pulls };
}

Deno.test("ImagePuller pulls a missing image once for everyone who waits, each hearing its progress", async () => {
  const { runtime, puller, pulls, logs } = setUp();
  runtime.missingImages.add(IMAGE);
  const gate = Promise.withResolvers<void>();
  runtime.pullGate = gate.promise;
  runtime.pullEvents = [
    { layer: "a", status: "Pulling fs layer" },
    { layer: "a", status: "Downloading", current: 1_000, total: 4_000 },
    { layer: "b", status: "Downloading", current: 500, total: 1_000 },
  ];
  const heard: PullProgress[][] = [[], [], []];
  const waits = heard.map((list) =>
    puller.ensureImage(IMAGE, { policy: "if-not-present", onProgress: (p) => list.push(p) })
  );
  await new Promise((r) => setTimeout(r, 0));
  assert.ok(puller.pulling(IMAGE));
  gate.resolve();
  await Promise.all(waits);

  assert.equal(runtime.callsOf("pullImage").length, 1);
  for (const list of heard) {
    assert.deepEqual(list.at(-1), { image: IMAGE, state: "done", current: 1_500, total: 5_000 });
  }
  // Each heard where the pull stood when it joined, then its end.
  for (const list of heard) {
    assert.deepEqual(list.map((p) => p.state), ["pulling", "done"]);
    assert.equal(list[0]?.current, 1_500);
  }
  assert.deepEqual(pulls(), ["start", "done"]);
  const done = logs.find((r) => r["state"] === "done");
  assert.equal(done?.["bytes"], 5_000);
  assert.equal(typeof done?.["duration_ms"], "number");
  assert.equal(done?.["registry"], "registry.example:5000");

  // Present now: the next login neither pulls nor hears anything.
  const later: PullProgress[] = [];
  await puller.ensureImage(IMAGE, { policy: "if-not-present", onProgress: (p) => later.push(p) });
  assert.equal(runtime.callsOf("pullImage").length, 1);
  assert.deepEqual(later, []);
});

Deno.test("ImagePuller sends an image's own registry credentials, and no one else's", async () => {
  const { runtime, puller } = setUp();
  runtime.missingImages.add(IMAGE).add("busybox").add("elsewhere.example/app");
  await puller.ensureImage(IMAGE, { policy: "if-not-present" });
  await puller.ensureImage("busybox", { policy: "if-not-present" });
  await puller.ensureImage("elsewhere.example/app", { policy: "if-not-present" });
  const [own, hub, elsewhere] = runtime.callsOf("pullImage").map((c) => c.options.auth);
  assert.deepEqual(own, {
    serverAddress: "registry.example:5000",
    username: "capsule",
    password: SECRET,
  });
  assert.equal(hub, undefined);
  assert.equal(elsewhere, undefined);
});

Deno.test("ImagePuller fails every waiter of a failed pull, logs it without secrets, and tries again next time", async () => {
  const { runtime, puller, pulls, logs } = setUp();
  runtime.missingImages.add(IMAGE);
  const gate = Promise.withResolvers<void>();
  runtime.pullGate = gate.promise;
  runtime.failPull = new CapsuleError("IMAGE_PULL_DENIED", "denied", {
    cause: new Error(`the engine echoed ${SECRET} back`),
  });
  const waits = [1, 2].map(() =>
    puller.ensureImage(IMAGE, { policy: "if-not-present" }).then(() => "ok", (e) => e.code)
  );
  gate.resolve();
  assert.deepEqual(await Promise.all(waits), ["IMAGE_PULL_DENIED", "IMAGE_PULL_DENIED"]);
  assert.equal(runtime.callsOf("pullImage").length, 1);
  const failed = logs.find((r) => r["state"] === "failed");
  assert.equal(failed?.level, "warn");
  assert.equal(failed?.["code"], "IMAGE_PULL_DENIED");
  assert.match(String(failed?.["error"]), /echoed \[redacted\] back/);
  assert.ok(!JSON.stringify(logs).includes(SECRET));

  runtime.failPull = undefined;
  await puller.ensureImage(IMAGE, { policy: "if-not-present" });
  assert.equal(runtime.callsOf("pullImage").length, 2);
  assert.deepEqual(pulls(), ["start", "failed", "start", "done"]);
});

Deno.test("ImagePuller pulls an always image again only once the refresh interval has passed", async (t) => {
  await t.step("within the interval: no pull", async () => {
    const { runtime, puller } = setUp();
    await puller.ensureImage(IMAGE, { policy: "always" });
    await puller.ensureImage(IMAGE, { policy: "always" });
    assert.equal(runtime.callsOf("pullImage").length, 1);
  });
  await t.step("interval 0: every time", async () => {
    const { runtime, puller } = setUp({ refreshIntervalMs: 0 });
    await puller.ensureImage(IMAGE, { policy: "always" });
    await puller.ensureImage(IMAGE, { policy: "always" });
    assert.equal(runtime.callsOf("pullImage").length, 2);
  });
  await t.step("a failed refresh of an image that is there is not fatal", async () => {
    const { runtime, puller } = setUp({ refreshIntervalMs: 0 });
    runtime.failPull = new CapsuleError("REGISTRY_UNREACHABLE", "down");
    await puller.ensureImage(IMAGE, { policy: "always" });
    runtime.missingImages.add(IMAGE);
    await assert.rejects(puller.ensureImage(IMAGE, { policy: "always" }), /down/);
  });
  await t.step("never: no pull, a clear error when missing", async () => {
    const { runtime, puller } = setUp();
    runtime.missingImages.add(IMAGE);
    await assert.rejects(
      puller.ensureImage(IMAGE, { policy: "never" }),
      /image ".*" is not present and pulling is disabled/,
    );
    assert.equal(runtime.callsOf("pullImage").length, 0);
  });
});

Deno.test("PrePuller pulls what is missing before anyone asks, and leaves never images alone", async () => {
  const { runtime, puller, logs } = setUp();
  runtime.missingImages.add(IMAGE).add("local-only");
  const prePuller = new PrePuller(puller, { logger: createLogger({ sink: () => {} }) });
  prePuller.configure({
    images: [
      { image: "busybox", policy: "if-not-present" },
      { image: IMAGE, policy: "if-not-present" },
      { image: "local-only", policy: "never" },
    ],
    refreshIntervalMs: 0,
  });
  await prePuller.settled();
  prePuller.stop();
  assert.deepEqual(runtime.callsOf("pullImage").map((c) => c.image), [IMAGE]);
  assert.equal(logs.filter((r) => r["state"] === "done").length, 1);
  // The login after it finds the image there.
  await puller.ensureImage(IMAGE, { policy: "if-not-present" });
  assert.equal(runtime.callsOf("pullImage").length, 1);
});

Deno.test("PrePuller refreshes always images every interval until stopped", async () => {
  const { runtime, puller } = setUp({ refreshIntervalMs: 20 });
  const prePuller = new PrePuller(puller, { logger: createLogger({ sink: () => {} }) });
  prePuller.configure({ images: [{ image: IMAGE, policy: "always" }], refreshIntervalMs: 20 });
  while (runtime.callsOf("pullImage").length < 3) await new Promise((r) => setTimeout(r, 10));
  prePuller.stop();
  await prePuller.settled();
  const pulled = runtime.callsOf("pullImage").length;
  await new Promise((r) => setTimeout(r, 60));
  assert.equal(runtime.callsOf("pullImage").length, pulled);
});

Deno.test("PullTally adds up the layers it knows the size of", () => {
  const tally = new PullTally();
  tally.add({ layer: "a", status: "Already exists" });
  tally.add({ layer: "b", status: "Pulling fs layer" });
  tally.add({ layer: "b", status: "Downloading", current: 10, total: 100 });
  tally.add({ layer: "c", status: "Downloading", current: 5, total: 50 });
  assert.deepEqual([tally.current, tally.total], [15, 150]);
  tally.add({ layer: "b", status: "Download complete" });
  assert.deepEqual([tally.current, tally.total], [105, 150]);
  tally.add({ layer: "c", status: "Extracting", current: 50, total: 50 });
  assert.deepEqual([tally.current, tally.total], [150, 150]);
});

Deno.test("registryAuthFor() matches the registry by its canonical name, or gives nothing", () => {
  const registries: Record<string, RegistryConfig> = {
    "index.docker.io": { username: "hub", password: "p" },
    "tok.example": { username: "", identityToken: "t" },
  };
  assert.deepEqual(registryAuthFor(registries, "busybox"), {
    serverAddress: "docker.io",
    username: "hub",
    password: "p",
  });
  assert.deepEqual(registryAuthFor(registries, "tok.example/app"), {
    serverAddress: "tok.example",
    identityToken: "t",
  });
  assert.equal(registryAuthFor(registries, "tok.example.evil/app"), undefined);
});

Deno.test("ImagePuller holds up no login for a refresh of an image that is there", async () => {
  const { runtime, puller } = setUp();
  const gate = Promise.withResolvers<void>();
  runtime.pullGate = gate.promise;
  const refresh = puller.pull(IMAGE);
  assert.ok(puller.pulling(IMAGE));
  await puller.ensureImage(IMAGE, { policy: "if-not-present" });
  gate.resolve();
  await refresh;
  assert.equal(runtime.callsOf("pullImage").length, 1);
});
