import assert from "node:assert/strict";
import { defaultConfig } from "../../src/config/mod.ts";
import { FreshContainers, SharedContainers } from "../../src/lifecycle/mod.ts";
import { silentLogger } from "../../src/log/mod.ts";
import { containerHandler, type Placement } from "../../src/session/mod.ts";
import { FakeRuntime } from "../helpers/fake_runtime.ts";
import { fakeSessionContext } from "../helpers/fake_session_context.ts";

Deno.test("a session's id stays live until its container is removed, after the exit status", async () => {
  const runtime = new FakeRuntime();
  runtime.script = { exit: { code: 3, oomKilled: false } };
  let open!: () => void;
  runtime.removeGate = new Promise((resolve) => (open = resolve));
  const live = new Set<string>();
  const releases: Promise<void>[] = [];
  const handler = containerHandler(new FreshContainers(runtime, "t", live), {
    containerFor: () => defaultConfig().container,
    track: (release) => releases.push(release),
  });
  const status = await handler(fakeSessionContext({ id: "s1" }));
  // The client has its exit status while the removal still runs.
  assert.deepEqual(status, { code: 3 });
  assert.equal(releases.length, 1);
  assert.ok(live.has("s1"), "no sweep may take the container while it is being removed");
  open();
  await Promise.all(releases);
  assert.ok(!live.has("s1"));
  assert.equal(runtime.live.size, 0);
});

Deno.test("a failed launch leaves nothing live", async () => {
  const runtime = new FakeRuntime();
  runtime.failRun = new Error("engine says no");
  const live = new Set<string>();
  const fresh = new FreshContainers(runtime, "t", live);
  await assert.rejects(fresh.launch(fakeSessionContext(), defaultConfig().container));
  assert.equal(live.size, 0);
});

Deno.test("the session waiting for its image, fresh or shared, hears the pull on stderr", async (t) => {
  const cases: [string, (runtime: FakeRuntime) => Placement][] = [
    ["fresh", (runtime) => new FreshContainers(runtime, "t", new Set())],
    [
      "persistent",
      (runtime) =>
        new SharedContainers(runtime, { instance: "t", live: new Set(), logger: silentLogger() }),
    ],
  ];
  for (const [mode, placementOf] of cases) {
    await t.step(mode, async () => {
      const runtime = new FakeRuntime();
      const written: string[] = [];
      const ctx = fakeSessionContext({
        write: (stream, data) => {
          written.push(`${stream}:${new TextDecoder().decode(data)}`);
          return Promise.resolve();
        },
      });
      const container = {
        ...defaultConfig().container,
        image: "registry.example/app:1",
        mode: mode === "fresh" ? "session" as const : "persistent" as const,
      };
      const placed = await placementOf(runtime).launch(ctx, container);
      const [ensure] = runtime.callsOf("ensureImage");
      assert.equal(ensure?.image, "registry.example/app:1");
      ensure?.options.onProgress?.({
        image: ensure.image,
        state: "pulling",
        current: 1e6,
        total: 4e6,
      });
      assert.deepEqual(written, ["stderr:capsule: pulling registry.example/app:1  1.0/4.0 MB\n"]);
      placed.end();
      await placed.release();
    });
  }
});
