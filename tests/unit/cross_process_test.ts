import assert from "node:assert/strict";
import {
  containerName,
  ownerLiveness,
  ProcessBeacon,
  type ProcessTokens,
  SharedHolds,
} from "../../src/lifecycle/mod.ts";
import { LABELS } from "../../src/runtime/mod.ts";

/** Tokens whose liveness a test decides. */
function tokens(self: string, alive: Record<string, boolean | undefined>): ProcessTokens {
  return { self, isAlive: (id) => Promise.resolve(id === self ? true : alive[id]) };
}

Deno.test("ProcessBeacon: a live process answers, a closed or killed one is dead", async () => {
  const dir = await Deno.makeTempDir();
  try {
    const a = await ProcessBeacon.open(dir, "aaaaaaaaaaaaaaaa");
    const b = await ProcessBeacon.open(dir, "bbbbbbbbbbbbbbbb");
    assert.equal(await a.isAlive("bbbbbbbbbbbbbbbb"), true);
    await b.close();
    assert.equal(await a.isAlive("bbbbbbbbbbbbbbbb"), false);
    // A process killed with SIGKILL leaves its socket file, which nobody answers.
    const listener = Deno.listen({ transport: "unix", path: `${dir}/cccccccccccccccc.sock` });
    listener.close(); // Deno removes nothing: the file stays, as after a kill
    await Deno.writeTextFile(`${dir}/cccccccccccccccc.sock`, "").catch(() => {});
    assert.equal(await a.isAlive("cccccccccccccccc"), false);
    assert.equal(await a.isAlive("not-an-id"), undefined);
    await a.close();
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("SharedHolds: the container goes only when no live process holds it and every grace ran out", async (t) => {
  const dir = await Deno.makeTempDir();
  let now = 1_000;
  const alive: Record<string, boolean> = { A: true, B: true };
  const holds = (self: string) =>
    new SharedHolds({ dir, tokens: tokens(self, alive), now: () => now });
  const a = holds("A");
  const b = holds("B");
  const removed: string[] = [];
  const remove = (who: string) => () => Promise.resolve(void removed.push(who));
  try {
    await t.step("the first holder finds nothing to take over; the second does", async () => {
      assert.equal(await a.locked("c1", (wanted) => Promise.resolve(wanted)), false);
      assert.equal(await b.locked("c1", (wanted) => Promise.resolve(wanted)), true);
    });
    await t.step(
      "a process that lets go while another holds it leaves it to that one",
      async () => {
        assert.deepEqual(await a.release("c1", 5_000), { retireAt: undefined });
        assert.equal(await a.retire("c1", remove("A")), false);
      },
    );
    await t.step(
      "the last to let go waits out its grace; earlier graces do not cut it short",
      async () => {
        await a.locked("c1", () => Promise.resolve());
        assert.deepEqual(await b.release("c1", 5_000), { retireAt: undefined }, "A holds it");
        now = 2_000;
        assert.deepEqual(await a.release("c1", 5_000), { retireAt: 7_000 });
        now = 6_000;
        assert.equal(await b.retire("c1", remove("B")), false, "A's grace runs until 7000");
        assert.equal(await b.wanted("c1"), true);
        now = 7_001;
        assert.equal(await a.retire("c1", remove("A")), true);
        assert.deepEqual(removed, ["A"]);
        assert.equal(await b.wanted("c1"), false);
      },
    );
    await t.step(
      "a holder that died stops counting; a grace it promised still counts",
      async () => {
        await a.locked("c2", () => Promise.resolve());
        await b.locked("c2", () => Promise.resolve());
        alive.B = false;
        assert.deepEqual(await a.release("c2", 1_000), { retireAt: now + 1_000 });
        now += 1_001;
        assert.equal(await a.retire("c2", remove("A")), true);

        alive.B = true;
        await b.locked("c3", () => Promise.resolve());
        await b.release("c3", 10_000);
        alive.B = false;
        assert.equal(await a.wanted("c3"), true, "B's grace is a fact about the container");
        now += 10_001;
        assert.equal(await a.wanted("c3"), false);
      },
    );
    await t.step("a process that cannot be judged counts as live", async () => {
      const c = new SharedHolds({ dir, tokens: tokens("C", {}), now: () => now });
      await b.locked("c4", () => Promise.resolve()); // B is dead by now, but claims anew
      await c.locked("c4", () => Promise.resolve());
      assert.equal(await holds("D").retire("c4", remove("D")), false, "C is unknown, so live");
    });
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("ownerLiveness() spares live siblings' containers and takes dead ones'", async (t) => {
  const dir = await Deno.makeTempDir();
  const mine = tokens("me", { sibling: true, dead: false });
  const holds = new SharedHolds({ dir, tokens: mine });
  const live = new Set(["s-live"]);
  const isLive = ownerLiveness({ instance: "i", live, tokens: mine, holds });
  const labels = (mode: string, process?: string) => ({
    [LABELS.mode]: mode,
    ...(process ? { [LABELS.process]: process } : {}),
  });
  try {
    const cases: [string, string, Record<string, string>, boolean][] = [
      ["an owner this process uses", "s-live", labels("session", "me"), true],
      ["this process's container it no longer uses", "s-gone", labels("session", "me"), false],
      ["a live sibling's container", "s-other", labels("session", "sibling"), true],
      ["a dead process's container", "s-dead", labels("connection", "dead"), false],
      ["a process this one cannot judge", "s-unknown", labels("pool", "elsewhere"), true],
      ["an older capsule's container (no process label)", "s-old", labels("session"), false],
      ["a persistent container nobody claims", "user:bob", labels("persistent", "sibling"), false],
    ];
    for (const [name, owner, containerLabels, expected] of cases) {
      await t.step(name, async () => assert.equal(await isLive(owner, containerLabels), expected));
    }
    await t.step("a persistent container a sibling holds", async () => {
      const sibling = new SharedHolds({ dir, tokens: tokens("sibling", {}) });
      await sibling.locked(await containerName("i", "user:bob"), () => Promise.resolve());
      assert.equal(await isLive("user:bob", labels("persistent", "dead")), true);
    });
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
