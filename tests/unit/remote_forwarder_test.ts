import assert from "node:assert/strict";
import { defaultConfig } from "../../src/config/mod.ts";
import type { ContainerConfig } from "../../src/config/types.ts";
import {
  bindAddress,
  type ClientChannels,
  encodeRelayFrame,
  ForwardBudget,
  RemoteForwarder,
  type RemoteForwarderOptions,
} from "../../src/forward/mod.ts";
import { ConnectionContainers } from "../../src/lifecycle/mod.ts";
import { silentLogger } from "../../src/log/mod.ts";
import { FakeRuntime } from "../helpers/fake_runtime.ts";

const text = (s: string) => new TextEncoder().encode(s);
const noChannels: ClientChannels = {
  forwardedTcpip: () => Promise.reject(new Error("unused")),
  forwardedStreamLocal: () => Promise.reject(new Error("unused")),
  agent: () => Promise.reject(new Error("unused")),
};

function setup(
  forwarding: Partial<ContainerConfig["forwarding"]>,
  options: Partial<RemoteForwarderOptions> & { mode?: ContainerConfig["mode"] } = {},
) {
  const runtime = new FakeRuntime();
  const containers = new ConnectionContainers();
  const base = defaultConfig().container;
  const events: [string, Record<string, unknown>][] = [];
  const held: string[] = [];
  const forwarder = new RemoteForwarder(runtime, {
    containers,
    containerFor: () => ({
      ...base,
      mode: options.mode ?? "session",
      user: "1000:1000",
      forwarding: { ...base.forwarding, ...forwarding },
    }),
    budget: new ForwardBudget(() => 4),
    maxListeners: () => 2,
    toolsReady: () => true,
    holdShared: (connectionId) => {
      held.push(connectionId);
      runtime.live.add("shared1");
      return Promise.resolve("shared1");
    },
    waitForSessionMs: 20,
    observe: (event, fields) => events.push([event, fields]),
    ...options,
  });
  forwarder.connected(
    {
      connectionId: "c1",
      identity: { username: "alice", method: "password" },
      logger: silentLogger(),
    },
    noChannels,
  );
  return { runtime, containers, forwarder, events, held };
}

/** The relay as the fake engine plays it: says it listens on `port`, then runs until closed. */
function relayListening(runtime: FakeRuntime, port: string) {
  runtime.script = {
    output: [{ stream: "stdout", data: encodeRelayFrame("L", 0, text(port)) }],
    untilSignal: true,
  };
}

Deno.test("bindAddress: loopback unless gatewayPorts, and only addresses when it is on", () => {
  for (const host of ["", "*", "0.0.0.0", "localhost", "10.0.0.1", "::", "evil;rm"]) {
    assert.equal(bindAddress(host, false), "127.0.0.1", host);
  }
  assert.equal(bindAddress("", true), "0.0.0.0");
  assert.equal(bindAddress("*", true), "0.0.0.0");
  assert.equal(bindAddress("localhost", true), "127.0.0.1");
  assert.equal(bindAddress("10.0.0.1", true), "10.0.0.1");
  assert.equal(bindAddress("::1", true), "::1");
  for (const host of ["evil;rm", "example.com", "1.2.3", "a:b:c:d:e:f:g:h:i:j", "-d"]) {
    assert.equal(bindAddress(host, true), undefined, host);
  }
});

Deno.test("RemoteForwarder refuses by policy before anything runs in a container", async (t) => {
  await t.step("remote forwarding off for the user", async () => {
    const { forwarder, runtime, events } = setup({ remote: false });
    const decision = await forwarder.listen("c1", { kind: "tcp", host: "", port: 9000 });
    assert.ok("refused" in decision);
    assert.match(decision.refused, /off for this user/);
    assert.equal(runtime.calls.length, 0);
    assert.equal(events[0]?.[0], "forward.refused");
    assert.equal(events[0]?.[1].prohibited, true);
  });
  await t.step("tools missing", async () => {
    const { forwarder } = setup({ remote: true }, { toolsReady: () => false });
    const decision = await forwarder.listen("c1", { kind: "tcp", host: "", port: 9000 });
    assert.ok("refused" in decision && /tools/.test(decision.refused));
  });
  await t.step("bad ports, addresses and socket paths", async () => {
    const { forwarder, runtime } = setup({ remote: true, gatewayPorts: true });
    for (
      const target of [
        { kind: "tcp", host: "", port: 70000 },
        { kind: "tcp", host: "", port: -1 },
        { kind: "tcp", host: "", port: 1.5 },
        { kind: "tcp", host: "evil,fork", port: 80 },
        { kind: "unix", path: "relative.sock" },
        { kind: "unix", path: "/tmp/../etc/x.sock" },
        { kind: "unix", path: "/tmp/a b.sock" },
      ] as const
    ) {
      const decision = await forwarder.listen("c1", target);
      assert.ok("refused" in decision, JSON.stringify(target));
    }
    assert.equal(runtime.calls.length, 0);
  });
  await t.step("session mode with no session within the wait", async () => {
    const { forwarder } = setup({ remote: true });
    const decision = await forwarder.listen("c1", { kind: "tcp", host: "", port: 9000 });
    assert.ok("refused" in decision && /no session is running/.test(decision.refused));
  });
  await t.step("an unknown connection", async () => {
    const { forwarder } = setup({ remote: true });
    const decision = await forwarder.listen("c9", { kind: "tcp", host: "", port: 9000 });
    assert.ok("refused" in decision);
  });
});

Deno.test("RemoteForwarder starts capsule-relay in the session's container, as its user", async () => {
  const { forwarder, runtime, containers } = setup({ remote: true });
  runtime.live.add("box1");
  containers.add("c1", "box1");
  relayListening(runtime, "41234");
  const decision = await forwarder.listen("c1", { kind: "tcp", host: "*", port: 0 });
  assert.deepEqual(decision, { port: 41234 });
  const exec = runtime.calls.find((c) => c.op === "exec");
  assert.ok(exec && exec.op === "exec");
  assert.equal(exec.id, "box1");
  assert.equal(exec.spec.user, "1000:1000");
  // gatewayPorts is off: the client's "*" still listens on the loopback.
  assert.deepEqual(exec.spec.cmd, ["/.capsule/bin/capsule-relay", "tcp", "127.0.0.1", "0"]);
  // Known by its port now: a cancel for it works, a second cancel does not.
  assert.equal(await forwarder.cancel("c1", { kind: "tcp", host: "*", port: 41234 }), true);
  assert.equal(await forwarder.cancel("c1", { kind: "tcp", host: "*", port: 41234 }), false);
  forwarder.disconnected("c1");
});

Deno.test("RemoteForwarder: the listener cap, duplicates, and the relay's own refusal", async () => {
  const { forwarder, runtime, containers } = setup({ remote: true });
  runtime.live.add("box1");
  containers.add("c1", "box1");
  relayListening(runtime, "9000");
  assert.deepEqual(await forwarder.listen("c1", { kind: "tcp", host: "", port: 9000 }), {
    port: 9000,
  });
  const again = await forwarder.listen("c1", { kind: "tcp", host: "", port: 9000 });
  assert.ok("refused" in again && /already/.test(again.refused));
  relayListening(runtime, "/tmp/s.sock");
  assert.deepEqual(await forwarder.listen("c1", { kind: "unix", path: "/tmp/s.sock" }), {
    port: 0,
  });
  const third = await forwarder.listen("c1", { kind: "tcp", host: "", port: 9001 });
  assert.ok("refused" in third && /too many remote forwards \(2\)/.test(third.refused));
  forwarder.disconnected("c1");

  const other = setup({ remote: true });
  other.runtime.live.add("box1");
  other.containers.add("c1", "box1");
  other.runtime.script = {
    output: [{ stream: "stdout", data: encodeRelayFrame("X", 0, text("bind: Address in use")) }],
  };
  const refused = await other.forwarder.listen("c1", { kind: "tcp", host: "", port: 22 });
  assert.ok("refused" in refused);
  assert.match(refused.refused, /bind: Address in use/);
  other.forwarder.disconnected("c1");
});

Deno.test("RemoteForwarder: in persistent mode -N -R takes the shared container", async () => {
  const { forwarder, runtime, held } = setup({ remote: true }, { mode: "persistent" });
  relayListening(runtime, "9000");
  assert.deepEqual(await forwarder.listen("c1", { kind: "tcp", host: "", port: 9000 }), {
    port: 9000,
  });
  assert.deepEqual(held, ["c1"]);
  forwarder.disconnected("c1");
});

Deno.test("RemoteForwarder.agentSocket: policy, and one socket per connection", () => {
  const off = setup({ agent: false });
  const refused = off.forwarder.agentSocket("c1");
  assert.ok("refused" in refused && /agent forwarding is off/.test(refused.refused));
  const on = setup({ agent: true });
  const first = on.forwarder.agentSocket("c1");
  const second = on.forwarder.agentSocket("c1");
  assert.ok("socket" in first && "socket" in second);
  assert.equal(first.socket, second.socket);
  assert.match(first.socket, /^\/tmp\/capsule-agent-[0-9a-f]{12}\/agent\.sock$/);
  assert.ok("refused" in on.forwarder.agentSocket("c9"));
});
