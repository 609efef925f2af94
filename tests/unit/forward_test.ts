import assert from "node:assert/strict";
import { defaultConfig } from "../../src/config/mod.ts";
import {
  ForwardBudget,
  LocalForwarder,
  socatAddress,
  type TunnelRequest,
} from "../../src/forward/mod.ts";
import { ConnectionContainers } from "../../src/lifecycle/mod.ts";
import { silentLogger } from "../../src/log/mod.ts";
import { FakeRuntime } from "../helpers/fake_runtime.ts";

Deno.test("socatAddress() passes plain targets and refuses anything socat would read as syntax", () => {
  assert.deepEqual(socatAddress({ kind: "tcp", host: "127.0.0.1", port: 80 }), {
    address: "TCP:127.0.0.1:80",
  });
  assert.deepEqual(socatAddress({ kind: "tcp", host: "db.internal", port: 5432 }), {
    address: "TCP:db.internal:5432",
  });
  assert.deepEqual(socatAddress({ kind: "tcp", host: "::1", port: 22 }), {
    address: "TCP6:[::1]:22",
  });
  assert.deepEqual(socatAddress({ kind: "unix", path: "/run/app.sock" }), {
    address: "UNIX-CONNECT:/run/app.sock",
  });
  const refused = [
    { kind: "tcp", host: "127.0.0.1,fork", port: 80 },
    { kind: "tcp", host: "x!!EXEC:sh", port: 80 },
    { kind: "tcp", host: "127.0.0.1:81", port: 80 },
    { kind: "tcp", host: "", port: 80 },
    { kind: "tcp", host: "localhost", port: 0 },
    { kind: "tcp", host: "localhost", port: 65536 },
    { kind: "tcp", host: "localhost", port: 1.5 },
    { kind: "unix", path: "relative.sock" },
    { kind: "unix", path: "/tmp/a,b" },
    { kind: "unix", path: "/tmp/a:b" },
    { kind: "unix", path: "/tmp/../etc/x" },
    { kind: "unix", path: "/tmp/'quoted'" },
  ] as const;
  for (const target of refused) {
    assert.ok("refused" in socatAddress(target), JSON.stringify(target));
  }
});

Deno.test("ConnectionContainers gives the latest session's container and forgets ended ones", () => {
  const containers = new ConnectionContainers();
  assert.equal(containers.latest("c1"), undefined);
  const first = containers.add("c1", "a");
  const second = containers.add("c1", "b");
  containers.add("c2", "z");
  assert.equal(containers.latest("c1"), "b");
  second();
  second(); // twice is once
  assert.equal(containers.latest("c1"), "a");
  first();
  assert.equal(containers.latest("c1"), undefined);
  assert.equal(containers.latest("c2"), "z");
});

function request(target: TunnelRequest["target"], user = "alice"): TunnelRequest {
  return {
    connectionId: "c1",
    identity: { username: user, method: "password" },
    logger: silentLogger(),
    target,
  };
}

Deno.test("LocalForwarder refuses by policy before anything runs in a container", async (t) => {
  const runtime = new FakeRuntime();
  const containers = new ConnectionContainers();
  const base = defaultConfig().container;
  const forwarder = new LocalForwarder(runtime, {
    containers,
    containerFor: (owner) => ({
      ...base,
      forwarding: { ...base.forwarding, local: owner.identity.username !== "closed" },
    }),
    budget: new ForwardBudget(() => 1),
  });
  const web = { kind: "tcp", host: "127.0.0.1", port: 80 } as const;
  await t.step("forwarding off for the user", async () => {
    const decision = await forwarder.open(request(web, "closed"));
    assert.ok("refused" in decision && decision.prohibited);
    assert.match(decision.refused, /off/);
  });
  await t.step("no session running on the connection", async () => {
    const decision = await forwarder.open(request(web));
    assert.ok("refused" in decision && decision.prohibited);
    assert.match(decision.refused, /no session/);
  });
  containers.add("c1", "fake1");
  await t.step("a target socat would misread", async () => {
    const decision = await forwarder.open(request({ kind: "tcp", host: "a,fork", port: 1 }));
    assert.ok("refused" in decision && decision.prohibited);
  });
  assert.equal(runtime.callsOf("exec").length, 0);
  await t.step("a relay that exits before connecting is a failed connect", async () => {
    await runtime.start({ name: "fake1" } as Parameters<FakeRuntime["start"]>[0]);
    runtime.script = {
      output: [{
        stream: "stderr",
        data: new TextEncoder().encode("2026 socat[7] E connect(): Connection refused\n"),
      }],
      exit: { code: 1, oomKilled: false },
    };
    const decision = await forwarder.open(request(web));
    assert.ok("refused" in decision && !decision.prohibited);
    assert.match(decision.refused, /Connection refused/);
    const [exec] = runtime.callsOf("exec");
    assert.deepEqual(exec?.spec.cmd, [
      "/.capsule/bin/socat",
      "-d",
      "-d",
      "STDIO",
      "TCP:127.0.0.1:80",
    ]);
    assert.equal(exec?.spec.user, base.user);
  });
});
