/**
 * `capsule serve --stdio`: one SSH connection per process on standard input
 * and output, as an OpenSSH `ProxyCommand` and under an inetd-style launcher
 * (`systemd-socket-activate --inetd`), and processes of one instance that
 * share persistent containers and leave each other's live containers alone.
 */
import assert from "node:assert/strict";
import { Background, freePort } from "../helpers/background.ts";
import { assertNoContainersLeft, capsuleContainers, requireEngine } from "../helpers/docker.ts";
import { pollUntil } from "../helpers/poll.ts";
import { ssh, sshCommand } from "../helpers/ssh_client.ts";
import {
  proxyLogin,
  stdioPids,
  type StdioSetup,
  stdioSetup,
  stdioShellCommand,
} from "../helpers/stdio_capsule.ts";

await requireEngine();

/** Waits until `count` processes of `setup` logged `server.stopped`. */
async function stoppedProcesses(setup: StdioSetup, count: number): Promise<void> {
  await pollUntil(
    async () => (await setup.logs()).filter((r) => r.event === "server.stopped").length,
    (stopped) => stopped >= count,
  );
}

/** An OpenSSH client in the background through the ProxyCommand of `setup`. */
function backgroundProxySsh(setup: StdioSetup, command: string): Background {
  const { login, args } = proxyLogin(setup);
  return new Background(sshCommand(login, command, args));
}

Deno.test("serve --stdio as an OpenSSH ProxyCommand serves a session and leaves nothing", async () => {
  const setup = await stdioSetup();
  try {
    const { login, args } = proxyLogin(setup);
    const exec = await ssh(login, "echo hello from $(id -un); echo oops >&2; exit 3", { args });
    assert.equal(exec.stdout, "hello from root\n", exec.stderr);
    assert.equal(exec.stderr, "oops\n");
    assert.equal(exec.code, 3);

    const pty = await ssh(login, undefined, {
      args: [...args, "-tt"],
      stdin: "echo pty-$((40+2)); exit 5\n",
    });
    assert.match(pty.stdout, /pty-42/);
    assert.equal(pty.code, 5);

    await stoppedProcesses(setup, 2);
    const logs = await setup.logs();
    // Every log line went to stderr: stdout carried only SSH, or the clients above would have failed.
    assert.ok(logs.some((r) => r.event === "auth.accepted" && r.user === "demo"));
    assert.equal(logs.filter((r) => r.event === "session.end").length, 2);
    assert.ok(logs.every((r) => r.event !== "server.listening"), "a stdio process listens nowhere");
    assert.equal((await stdioPids(setup)).length, 2);
    await assertNoContainersLeft(15_000, setup.instance);
  } finally {
    await setup.remove();
  }
});

Deno.test("serve --stdio under systemd-socket-activate --inetd serves each connection in its own process", async () => {
  const setup = await stdioSetup();
  const port = freePort();
  const launcher = new Background([
    "systemd-socket-activate",
    "--inetd",
    "--accept",
    "--listen",
    `127.0.0.1:${port}`,
    // What systemd's Accept=yes sets for each connection.
    "-E",
    "REMOTE_ADDR=203.0.113.7",
    "-E",
    "REMOTE_PORT=40222",
    "sh",
    "-c",
    stdioShellCommand(setup),
  ]);
  try {
    await launcher.waitFor(/Listening on/, "stderr");
    const login = { port, user: "demo", password: "s3cret" };
    const [first, second] = await Promise.all([
      ssh(login, "echo one; sleep 1"),
      ssh(login, "echo two; sleep 1"),
    ]);
    assert.equal(first.stdout, "one\n", first.stderr);
    assert.equal(second.stdout, "two\n", second.stderr);
    assert.equal(first.code, 0);
    assert.equal(second.code, 0);

    await stoppedProcesses(setup, 2);
    const pids = await stdioPids(setup);
    assert.equal(new Set(pids).size, 2, `one process per connection: ${pids}`);
    const opened = (await setup.logs()).filter((r) => r.event === "connection.open");
    assert.deepEqual(opened.map((r) => r.remote), ["203.0.113.7:40222", "203.0.113.7:40222"]);
    await assertNoContainersLeft(15_000, setup.instance);
  } finally {
    await launcher.stop();
    await setup.remove();
  }
});

Deno.test("two stdio processes serving one user land in one persistent container", async () => {
  const setup = await stdioSetup({
    users: { demo: { container: { mode: "persistent", gracePeriod: 8 } } },
  });
  try {
    const first = backgroundProxySsh(
      setup,
      "echo from-first > /tmp/mark; echo started; sleep 3; echo first-done",
    );
    await first.waitFor(/started/);
    const { login, args } = proxyLogin(setup);
    const second = await ssh(login, "cat /tmp/mark", { args });
    assert.equal(second.stdout, "from-first\n", second.stderr);
    assert.equal(await first.finish(), 0);
    assert.match(first.stdout, /first-done/);
    const containers = await capsuleContainers(setup.instance);
    assert.equal(containers.length, 1, "one container for the user");

    // Both processes let go of it; a third one within the grace period still finds it.
    const third = await ssh(login, "cat /tmp/mark", { args });
    assert.equal(third.stdout, "from-first\n", third.stderr);
    assert.deepEqual(await capsuleContainers(setup.instance), containers);

    // The last process to let go waits out the grace period, then removes it.
    await stoppedProcesses(setup, 3);
    const logs = await setup.logs();
    assert.equal(logs.filter((r) => r.event === "container.start").length, 1);
    assert.equal(logs.filter((r) => r.event === "container.adopt").length, 2);
    assert.equal(logs.filter((r) => r.event === "container.remove").length, 1);
    await assertNoContainersLeft(15_000, setup.instance);
  } finally {
    await setup.remove();
  }
});

Deno.test("a stdio process's sweep spares a live sibling's container and removes a dead one's", async () => {
  const setup = await stdioSetup();
  const { login, args } = proxyLogin(setup);
  try {
    const live = backgroundProxySsh(setup, "echo started; sleep 4; echo still-here");
    await live.waitFor(/started/);
    const [liveContainer] = await capsuleContainers(setup.instance);
    assert.ok(liveContainer);
    // This process sweeps at start-up while the first one's session runs.
    const other = await ssh(login, "echo other", { args });
    assert.equal(other.stdout, "other\n", other.stderr);
    assert.equal(await live.finish(), 0, live.stderr);
    assert.match(live.stdout, /still-here/);

    // A process killed with SIGKILL leaves its container behind...
    const doomed = backgroundProxySsh(setup, "echo started; sleep 60");
    await doomed.waitFor(/started/);
    const [orphan] = await pollUntil(
      () => capsuleContainers(setup.instance),
      (c) => c.length === 1,
    );
    const pids = await stdioPids(setup);
    Deno.kill(pids.at(-1)!, "SIGKILL");
    await doomed.finish();
    assert.deepEqual(await capsuleContainers(setup.instance), [orphan]);
    // ...which the next process's start-up sweep removes.
    const next = await ssh(login, "echo next", { args });
    assert.equal(next.stdout, "next\n", next.stderr);
    const swept = (await setup.logs()).filter((r) => r.event === "sweep.removed");
    assert.deepEqual(swept.map((r) => r.container), [orphan!.slice(0, 12)]);
    await assertNoContainersLeft(15_000, setup.instance);
  } finally {
    await setup.remove();
  }
});
