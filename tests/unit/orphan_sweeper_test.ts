import assert from "node:assert/strict";
import { OrphanSweeper } from "../../src/lifecycle/mod.ts";
import { silentLogger } from "../../src/log/mod.ts";
import { type ContainerSpec, LABELS } from "../../src/runtime/mod.ts";
import { FakeRuntime } from "../helpers/fake_runtime.ts";

/** A container of `instance` owned by `owner`, started straight on the fake engine. */
async function container(
  runtime: FakeRuntime,
  instance: string,
  owner: string,
  expires?: number,
): Promise<string> {
  const labels: Record<string, string> = {
    [LABELS.managed]: "true",
    [LABELS.instance]: instance,
    [LABELS.owner]: owner,
  };
  if (expires !== undefined) labels[LABELS.expires] = String(expires);
  return await runtime.start({ labels } as ContainerSpec);
}

Deno.test("OrphanSweeper removes what nothing live owns, and what outlived its lifetime", async () => {
  const runtime = new FakeRuntime();
  const live = new Set(["s-live", "user:alice", "user:old"]);
  const kept = await container(runtime, "me", "s-live");
  const keptShared = await container(runtime, "me", "user:alice", Date.now() + 60_000);
  const orphan = await container(runtime, "me", "s-gone");
  const expired = await container(runtime, "me", "user:old", Date.now() - 3_600_000);
  const others = await container(runtime, "someone-else", "s-gone");
  const sweeper = new OrphanSweeper(runtime, {
    instance: "me",
    isLive: (owner) => live.has(owner),
    logger: silentLogger(),
    intervalMs: 60_000,
  });
  assert.equal(await sweeper.sweep(), 2);
  assert.deepEqual(runtime.callsOf("remove").map((c) => c.id).sort(), [orphan, expired].sort());
  assert.ok(runtime.live.has(kept) && runtime.live.has(keptShared) && runtime.live.has(others));
});
