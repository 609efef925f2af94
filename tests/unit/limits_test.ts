import assert from "node:assert/strict";
import { CapsuleError } from "../../src/errors/mod.ts";
import { ContainerAlarms } from "../../src/lifecycle/mod.ts";
import {
  ContainerBudget,
  describeDiskLimit,
  DiskWatcher,
  formatBytes,
  limitSessions,
  UserCaps,
} from "../../src/limits/mod.ts";
import { silentLogger } from "../../src/log/mod.ts";
import { LABELS } from "../../src/runtime/mod.ts";
import { fakeSessionContext } from "../helpers/fake_session_context.ts";
import { FakeRuntime } from "../helpers/fake_runtime.ts";

Deno.test("UserCaps counts sessions and connections per user, across connections", () => {
  const caps = new UserCaps((user) =>
    user === "big"
      ? { sessionsPerUser: 3, connectionsPerUser: 0 }
      : { sessionsPerUser: 2, connectionsPerUser: 1 }
  );
  assert.equal(caps.openSession("alice", "s1"), undefined);
  assert.equal(caps.openSession("alice", "s2"), undefined);
  const refused = caps.openSession("alice", "s3");
  assert.ok(refused instanceof CapsuleError);
  assert.equal(refused.code, "SESSION_CAP_REACHED");
  assert.equal(refused.userMessage, 'Too many sessions for user "alice" (2)');
  assert.notEqual(refused.exitCode, 0);
  assert.equal(caps.sessionsOf("alice"), 2, "a refused session is not counted");
  assert.equal(caps.openSession("bob", "s4"), undefined, "other users have their own count");
  caps.closeSession("s1");
  assert.equal(caps.openSession("alice", "s5"), undefined, "a closed session frees its slot");
  assert.equal(caps.openSession("big", "b1"), undefined);
  assert.equal(caps.openConnection("alice", "c1"), undefined);
  assert.equal(caps.openConnection("alice", "c2")?.code, "CONNECTION_CAP_REACHED");
  caps.closeConnection("c2"); // never counted: no effect
  assert.equal(caps.connectionsOf("alice"), 1);
  caps.closeConnection("c1");
  assert.equal(caps.openConnection("alice", "c3"), undefined);
  for (let i = 0; i < 100; i++) {
    assert.equal(caps.openConnection("big", `b${i}`), undefined, "0 = no cap");
  }
});

Deno.test("limitSessions() refuses before the inner handler and frees the slot after", async () => {
  const caps = new UserCaps(() => ({ sessionsPerUser: 1, connectionsPerUser: 0 }));
  let inner = 0;
  const gate = Promise.withResolvers<void>();
  const handler = limitSessions(caps)(async () => {
    inner++;
    await gate.promise;
    return { code: 0 };
  });
  const first = handler(fakeSessionContext({ id: "a" }));
  await assert.rejects(handler(fakeSessionContext({ id: "b" })), /Too many sessions/);
  assert.equal(inner, 1, "the refused session never reached the container handler");
  gate.resolve();
  await first;
  assert.deepEqual(await handler(fakeSessionContext({ id: "c" })), { code: 0 });
});

function spec(name: string) {
  return { name } as Parameters<FakeRuntime["run"]>[0];
}

Deno.test("ContainerBudget refuses a container over the cap, and counts removals back", async () => {
  const fake = new FakeRuntime();
  const budget = new ContainerBudget(fake, 2);
  const a = await budget.run(spec("a"));
  const b = await budget.start(spec("b"));
  await assert.rejects(
    budget.start(spec("c")),
    (error) => error instanceof CapsuleError && error.code === "CONTAINER_CAP_REACHED",
  );
  assert.equal(fake.callsOf("start").length, 1, "nothing reached the engine over the cap");
  await budget.remove(b);
  assert.equal(budget.inUse, 1);
  await budget.start(spec("d"));
  await budget.remove("not-ours"); // a stale name or an orphan: not counted
  assert.equal(budget.inUse, 2);
  await budget.remove(a.containerId);
  fake.failRun = new Error("engine says no");
  await assert.rejects(budget.run(spec("e")), /engine says no/);
  assert.equal(budget.inUse, 1, "a failed creation gives its slot back");
  budget.max = 0;
  fake.failRun = undefined;
  for (let i = 0; i < 5; i++) await budget.run(spec(`f${i}`));
});

Deno.test("ContainerBudget frees the slot of a container that went without it", async () => {
  const fake = new FakeRuntime();
  const budget = new ContainerBudget(fake, 1, { reconcileAfterMs: 0 });
  const labels = { [LABELS.managed]: "true", [LABELS.instance]: "i1" };
  const id = await budget.start({ ...spec("a"), labels });
  await assert.rejects(budget.start({ ...spec("b"), labels }), /limit of 1/);
  await budget.list({ [LABELS.managed]: "true", [LABELS.user]: "x" });
  assert.equal(budget.inUse, 1, "only a listing of the whole instance reconciles");
  fake.live.delete(id); // docker rm, or an engine restart
  await budget.list(labels);
  assert.equal(budget.inUse, 0);
  await budget.start({ ...spec("c"), labels });
});

Deno.test("DiskWatcher raises the alarm of a container over its disk label, once", async () => {
  const fake = new FakeRuntime();
  const labels = (disk: string) => ({
    [LABELS.managed]: "true",
    [LABELS.instance]: "i1",
    [LABELS.user]: "alice",
    ...(disk ? { [LABELS.disk]: disk } : {}),
  });
  const over = await fake.start({ ...spec("over"), labels: labels("1000") });
  const under = await fake.start({ ...spec("under"), labels: labels("1000") });
  const unlimited = await fake.start({ ...spec("unlimited"), labels: labels("") });
  const other = await fake.start({
    ...spec("other"),
    labels: { ...labels("10"), [LABELS.instance]: "i2" },
  });
  fake.sizes.set(over, 1001).set(under, 1000).set(unlimited, 10 ** 12).set(other, 10 ** 6);
  const alarms = new ContainerAlarms();
  const signal = alarms.signalFor(over);
  const watcher = new DiskWatcher(fake, { instance: "i1", alarms, logger: silentLogger() });
  await watcher.check();
  assert.equal(signal.aborted, true);
  assert.match(String(signal.reason), /disk limit of 1000 bytes/);
  assert.equal(alarms.raised(under), false, "at the limit is not over it");
  assert.equal(alarms.raised(unlimited), false, "no label, no limit");
  assert.equal(alarms.raised(other), false, "another instance's container is not ours");
  await watcher.check(); // a second pass does not raise again
  alarms.forget(over);
  assert.equal(alarms.raised(over), false);
});

Deno.test("formatBytes() and describeDiskLimit() read as people write", () => {
  assert.equal(formatBytes(1024 ** 3), "1 GiB");
  assert.equal(formatBytes(1536 * 1024 ** 2), "1.5 GiB");
  assert.equal(formatBytes(100), "100 bytes");
  const container = { disk: 1024 ** 3, readOnlyRootfs: false, tmpfs: {} };
  assert.match(describeDiskLimit("quota", container), /1 GiB per container.*quota \(exact\)/);
  assert.match(describeDiskLimit("watch", container), /checked twice a second/);
  assert.match(
    describeDiskLimit("watch", { ...container, readOnlyRootfs: true, tmpfs: { "/tmp": 64 << 20 } }),
    /^read-only root filesystem; tmpfs .*\/tmp 64 MiB/,
  );
  assert.match(describeDiskLimit("none", { ...container, disk: 0 }), /no limit/);
});
