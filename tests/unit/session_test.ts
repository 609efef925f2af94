import assert from "node:assert/strict";
import { type ContainerConfig, defaultConfig } from "../../src/config/mod.ts";
import { CapsuleError } from "../../src/errors/mod.ts";
import { FreshContainers } from "../../src/lifecycle/mod.ts";
import { silentLogger } from "../../src/log/mod.ts";
import {
  composeSession,
  containerHandler,
  EnvAllowList,
  recoverErrors,
  Session,
} from "../../src/session/mod.ts";
import { FakeChannel } from "../helpers/fake_channel.ts";
import { FakeRuntime } from "../helpers/fake_runtime.ts";

const CONTAINER: ContainerConfig = { ...defaultConfig().container, env: { OPERATOR: "set" } };

const enc = (text: string) => new TextEncoder().encode(text);

function makeSession(runtime: FakeRuntime, envAllow = ["LANG", "LC_*"]) {
  const handler = composeSession(
    [recoverErrors()],
    containerHandler(new FreshContainers(runtime, "test", new Set()), {
      containerFor: () => CONTAINER,
    }),
  );
  return new Session({
    id: "s1",
    connectionId: "c1",
    identity: { username: "alice", method: "password" },
    logger: silentLogger(),
    envAllow: new EnvAllowList(envAllow),
    handler,
  });
}

Deno.test("Session runs exec through the shell and reports the exit code", async () => {
  const runtime = new FakeRuntime();
  runtime.script = {
    output: [{ stream: "stdout", data: enc("out") }, { stream: "stderr", data: enc("err") }],
    exit: { code: 3, oomKilled: false },
  };
  const session = makeSession(runtime);
  const channel = new FakeChannel();
  assert.equal(session.start({ kind: "exec", command: "echo $HOME; exit 3" }, channel), true);
  assert.deepEqual(await channel.finished, { code: 3 });
  assert.equal(channel.stdout, "out");
  assert.equal(channel.stderr, "err");
  const [run] = runtime.callsOf("run");
  assert.deepEqual(run?.spec.cmd, ["/bin/sh", "-c", "echo $HOME; exit 3"]);
  assert.equal(run?.spec.tty, false);
  assert.equal(run?.spec.labels["io.capsule.user"], "alice");
  assert.equal(run?.spec.labels["io.capsule.session"], "s1");
  assert.deepEqual(runtime.callsOf("remove").map((c) => c.id), ["fake1"]);
});

Deno.test("Session refuses requests in the wrong state", async (t) => {
  const runtime = new FakeRuntime();
  const session = makeSession(runtime);
  await t.step("a second pty-req", () => {
    assert.equal(session.pty({ term: "xterm", cols: 80, rows: 24 }), true);
    assert.equal(session.pty({ term: "xterm", cols: 80, rows: 24 }), false);
  });
  await t.step("signal before start", () => {
    assert.equal(session.signal("INT"), false);
  });
  const channel = new FakeChannel();
  session.start({ kind: "shell" }, channel);
  await t.step("env after start", () => assert.equal(session.env("LANG", "C"), false));
  await t.step("pty after start", () => {
    assert.equal(session.pty({ term: "xterm", cols: 1, rows: 1 }), false);
  });
  await t.step("a second shell", () => {
    assert.equal(session.canStart, false);
    assert.equal(session.start({ kind: "shell" }, new FakeChannel()), false);
  });
  await channel.finished;
  assert.equal(runtime.callsOf("run").length, 1);
});

Deno.test("Session passes only allow-listed env and lets the operator's env win", async () => {
  const runtime = new FakeRuntime();
  const session = makeSession(runtime);
  const cases: [string, string, boolean][] = [
    ["LANG", "C.UTF-8", true],
    ["LC_ALL", "C", true],
    ["LD_PRELOAD", "/tmp/x.so", false],
    ["PATH", "/evil", false],
    ["LC_X=Y", "z", false],
    ["OPERATOR", "client", false],
  ];
  for (const [name, value, ok] of cases) assert.equal(session.env(name, value), ok, name);
  const channel = new FakeChannel();
  session.start({ kind: "exec", command: "env" }, channel);
  await channel.finished;
  const env = runtime.callsOf("run")[0]?.spec.env ?? [];
  assert.deepEqual(env, ["LANG=C.UTF-8", "LC_ALL=C", "OPERATOR=set"]);
});

Deno.test("Session with a PTY sets TERM, clamps the size and forwards resizes", async () => {
  const runtime = new FakeRuntime();
  runtime.script = { untilSignal: true };
  const session = makeSession(runtime);
  session.pty({ term: "xterm-256color", cols: 2 ** 32, rows: 0 });
  const channel = new FakeChannel();
  session.start({ kind: "shell" }, channel);
  await new Promise((r) => setTimeout(r, 0));
  const spec = runtime.callsOf("run")[0]?.spec;
  assert.ok(spec?.env.includes("TERM=xterm-256color"));
  assert.deepEqual(spec?.size, { cols: 10_000, rows: 1 });
  session.windowChange({ cols: 100, rows: 40 });
  await new Promise((r) => setTimeout(r, 10));
  assert.deepEqual(runtime.callsOf("resize").at(-1)?.size, { cols: 100, rows: 40 });
  assert.equal(session.signal("INT"), true);
  assert.deepEqual(await channel.finished, { signal: "INT" });
  await new Promise((r) => setTimeout(r, 250)); // let the resize pacing timer end
});

Deno.test("Session hands a window change sent while the container starts to the process", async (t) => {
  for (const changes of [1, 10, 3000]) {
    await t.step(`${changes} change(s) before the process exists`, async () => {
      const runtime = new FakeRuntime();
      runtime.script = { untilSignal: true };
      const gate = Promise.withResolvers<void>();
      runtime.runGate = gate.promise;
      const session = makeSession(runtime);
      session.pty({ term: "xterm", cols: 80, rows: 24 });
      const channel = new FakeChannel();
      session.start({ kind: "exec", command: "sleep 3; stty size" }, channel);
      for (let i = 1; i <= changes; i++) session.windowChange({ cols: 100 + i, rows: 33 });
      gate.resolve();
      await new Promise((r) => setTimeout(r, 10));
      assert.deepEqual(runtime.callsOf("run")[0]?.spec.size, { cols: 80, rows: 24 });
      assert.deepEqual(runtime.callsOf("resize").at(-1)?.size, { cols: 100 + changes, rows: 33 });
      session.signal("INT");
      await channel.finished;
      await new Promise((r) => setTimeout(r, 250)); // let the resize pacing timer end
    });
  }
  await t.step("no resize when the size did not change", async () => {
    const runtime = new FakeRuntime();
    runtime.script = { untilSignal: true };
    const session = makeSession(runtime);
    session.pty({ term: "xterm", cols: 80, rows: 24 });
    const channel = new FakeChannel();
    session.start({ kind: "shell" }, channel);
    session.windowChange({ cols: 80, rows: 24 });
    await new Promise((r) => setTimeout(r, 10));
    assert.equal(runtime.callsOf("resize").length, 0);
    session.signal("INT");
    await channel.finished;
  });
});

Deno.test("Session pipes stdin to the process and EOF closes it", async () => {
  const runtime = new FakeRuntime();
  runtime.script = { echoStdin: true, exit: { code: 0, oomKilled: false } };
  const session = makeSession(runtime);
  const channel = new FakeChannel();
  session.start({ kind: "exec", command: "cat" }, channel);
  channel.send("abc");
  channel.eof();
  assert.deepEqual(await channel.finished, { code: 0 });
  assert.equal(channel.stdout, "abc");
  assert.equal(runtime.callsOf("closeStdin").length, 1);
});

Deno.test("Session turns a runtime failure into one line and a non-zero exit", async (t) => {
  const cases: [string, Error, RegExp, number][] = [
    [
      "missing image",
      new CapsuleError("IMAGE_NOT_FOUND", 'Cannot start a container: image "nope" not found'),
      /^capsule: Cannot start a container: image "nope" not found\n$/,
      125,
    ],
    [
      "unexpected error",
      new Error("socket /var/run/docker.sock"),
      /^capsule: Internal error \(session s1\)\n$/,
      255,
    ],
  ];
  for (const [name, error, line, code] of cases) {
    await t.step(name, async () => {
      const runtime = new FakeRuntime();
      runtime.failRun = error;
      const session = makeSession(runtime);
      const channel = new FakeChannel();
      session.start({ kind: "exec", command: "true" }, channel);
      assert.deepEqual(await channel.finished, { code });
      assert.match(channel.stderr, line);
      assert.doesNotMatch(channel.stderr, /docker\.sock|at /);
    });
  }
});

Deno.test("Session removes the container when the client goes away", async () => {
  const runtime = new FakeRuntime();
  runtime.script = { untilSignal: true };
  const session = makeSession(runtime);
  const channel = new FakeChannel();
  session.start({ kind: "shell" }, channel);
  await new Promise((r) => setTimeout(r, 0));
  assert.equal(runtime.live.size, 1);
  channel.close();
  session.close();
  await session.done;
  assert.equal(runtime.live.size, 0);
  assert.equal(channel.status, undefined, "no exit reply on a closed channel");
});

Deno.test("Session reports a missing shell in one clear line", async () => {
  const runtime = new FakeRuntime();
  runtime.script = {
    output: [{
      stream: "stderr",
      data: enc("[FATAL tini (7)] exec /bin/sh failed: No such file or directory\n"),
    }],
    exit: { code: 127, oomKilled: false },
  };
  const session = makeSession(runtime);
  const channel = new FakeChannel();
  session.start({ kind: "shell" }, channel);
  assert.deepEqual(await channel.finished, { code: 127 });
  assert.equal(
    channel.stderr,
    'capsule: Cannot start session: shell "/bin/sh" not found in image "busybox"\n',
  );
});

Deno.test("Session ends when closed while a write is stalled on the client's window", async () => {
  const runtime = new FakeRuntime();
  runtime.script = { untilSignal: true, output: [{ stream: "stdout", data: enc("stuck") }] };
  const session = makeSession(runtime);
  const channel = new FakeChannel();
  // A write that never completes, as with a client that stopped reading.
  channel.write = () => new Promise<void>(() => {});
  session.start({ kind: "exec", command: "yes" }, channel);
  await new Promise((r) => setTimeout(r, 10));
  session.close();
  await session.done;
  assert.equal(runtime.live.size, 0, "the container is removed");
});
