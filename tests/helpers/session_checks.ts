/** Checks of what a session does, shared by the end-to-end tests of every container mode. */
import assert from "node:assert/strict";
import {
  collect,
  connectSsh2,
  type Login,
  openChannel,
  ptyShell,
  ssh,
  waitForOutput,
} from "./ssh_client.ts";

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Wraps each check, e.g. to look for leftover containers after it. */
export type CheckWrapper = (check: () => Promise<void>) => () => Promise<void>;

/**
 * What a session does as with OpenSSH, checked in `t`'s steps: exit codes,
 * stdin EOF, stderr apart, the env allow-list, TTY size and TERM from the
 * start, resizes, Ctrl-C, signal requests. Every container mode must pass
 * them all.
 */
export async function checkSessionBehaviour(
  t: Deno.TestContext,
  login: Login,
  wrap: CheckWrapper = (check) => check,
): Promise<void> {
  const step = (name: string, check: () => Promise<void>) => t.step(name, wrap(check));
  await step("exit codes arrive exactly", async () => {
    for (const code of [0, 1, 3, 255]) {
      const result = await ssh(login, `exit ${code}`);
      assert.equal(result.code, code, result.stderr);
    }
  });
  await step("exec runs through /bin/sh -c as with OpenSSH", async () => {
    const result = await ssh(login, "echo $HOME; exit 3");
    assert.equal(result.stdout, "/root\n");
    assert.equal(result.code, 3);
  });
  await step("a process that closes its output still reports its own exit", async () => {
    const result = await ssh(login, "echo bye; exec >/dev/null 2>&1; sleep 1; exit 3");
    assert.equal(result.stdout, "bye\n");
    assert.equal(result.code, 3);
  });
  await step("stdin reaches the process and ends with EOF", async () => {
    const result = await ssh(login, "wc -c", { stdin: "abc" });
    assert.equal(result.stdout.trim(), "3");
    assert.equal(result.code, 0);
  });
  await step("stderr stays apart from stdout", async () => {
    const result = await ssh(login, "echo out; echo err >&2; exit 1");
    assert.equal(result.stdout, "out\n");
    assert.equal(result.stderr, "err\n");
    assert.equal(result.code, 1);
  });
  await step("only allow-listed env reaches the process", async () => {
    const result = await ssh(login, 'echo "$LANG|$LC_TEST|$LD_PRELOAD|$NOPE"', {
      args: ["-o", "SendEnv=LANG LC_TEST LD_PRELOAD NOPE"],
      env: { LANG: "C.UTF-8", LC_TEST: "yes", LD_PRELOAD: "/tmp/evil.so", NOPE: "no" },
    });
    assert.equal(result.stdout, "C.UTF-8|yes||\n");
  });
  await step("an exec with a PTY sees its size and TERM from the start", async () => {
    const client = await connectSsh2(login);
    try {
      const channel = await openChannel(client, { exec: "stty size; echo $TERM; exit 4" }, {
        pty: { term: "vt100", rows: 33, cols: 101 },
      });
      const result = await collect(channel);
      assert.equal(result.stdout, "33 101\r\nvt100\r\n");
      assert.equal(result.code, 4);
    } finally {
      client.end();
    }
  });
  await step("a PTY shell follows resizes, and Ctrl-C interrupts", async () => {
    const { client, channel, done } = await ptyShell(login);
    try {
      channel.setWindow(50, 132, 0, 0);
      await sleep(500);
      channel.write("stty size; echo TERM=$TERM\n");
      const text = await waitForOutput(channel, (s) => /TERM=xterm/.test(s));
      assert.match(text, /50 132/);
      channel.write("sleep 100\n");
      await sleep(500);
      channel.write("\x03");
      channel.write("echo after-$((40+2))\n");
      await waitForOutput(channel, (s) => s.includes("after-42"));
      channel.write("exit 7\n");
      assert.equal((await done).code, 7);
    } finally {
      client.end();
    }
  });
  await step("a signal request reaches the process", async () => {
    const client = await connectSsh2(login);
    try {
      const channel = await openChannel(client, { exec: "echo started; sleep 100" });
      const done = collect(channel);
      await waitForOutput(channel, (s) => s.includes("started"));
      channel.signal("TERM");
      const result = await done;
      assert.equal(result.signal, "SIGTERM", JSON.stringify(result));
    } finally {
      client.end();
    }
  });
}
