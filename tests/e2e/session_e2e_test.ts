/**
 * End to end: the real capsule process, the real Docker engine, the real
 * OpenSSH client (with sshpass) and an ssh2 client.
 */
import assert from "node:assert/strict";
import { createHash } from "node:crypto";
import { hashPassword } from "../../src/auth/mod.ts";
import { startCapsule } from "../helpers/capsule_process.ts";
import { assertNoContainersLeft, capsuleContainers, requireEngine } from "../helpers/docker.ts";
import {
  collect,
  connectSsh2,
  type Login,
  openChannel,
  ptyShell,
  ssh,
  sshCommand,
  waitForOutput,
} from "../helpers/ssh_client.ts";

async function makeKey(dir: string, name: string): Promise<{ file: string; pub: string }> {
  const file = `${dir}/${name}`;
  const out = await new Deno.Command("ssh-keygen", {
    args: ["-q", "-t", "ed25519", "-N", "", "-C", name, "-f", file],
    stdout: "null",
    stderr: "piped",
  }).output();
  assert.equal(out.code, 0, new TextDecoder().decode(out.stderr));
  return { file, pub: (await Deno.readTextFile(`${file}.pub`)).trim() };
}

function seqBytes(from: number, to: number, limit: number): Uint8Array {
  let text = "";
  for (let i = from; i <= to && text.length < limit; i++) text += `${i}\n`;
  return new TextEncoder().encode(text.slice(0, limit));
}

const sha256 = (data: Uint8Array) => createHash("sha256").update(data).digest("hex");

Deno.test("end to end: sessions in fresh containers", async (t) => {
  await requireEngine();
  const keysDir = await Deno.makeTempDir({ prefix: "capsule-keys-" });
  const alice = await makeKey(keysDir, "alice");
  const mallory = await makeKey(keysDir, "mallory");
  const passwordHash = await hashPassword("s3cret");
  const capsule = await startCapsule({
    config: {
      // Wrong-password cases below must not lock the test's own address out.
      server: { penalties: { enabled: false } },
      users: {
        demo: { passwordHash },
        alice: { authorizedKeys: [alice.pub] },
        broken: { passwordHash, container: { shell: "/bin/bash" } },
        ghost: { passwordHash, container: { image: "capsule-test/missing:none", pull: "never" } },
      },
    },
  });
  const demo: Login = { port: capsule.port, user: "demo", password: "s3cret" };
  const step = (name: string, fn: () => Promise<void>) =>
    t.step(name, async () => {
      try {
        await fn();
        await assertNoContainersLeft(15_000, capsule.instance);
      } catch (error) {
        // The server's side of the story, for whoever reads the failure.
        const tail = capsule.logs().slice(-25).map((r) => JSON.stringify(r)).join("\n");
        console.error(`capsule log (last 25 lines):\n${tail}`);
        throw error;
      }
    });

  try {
    await step("exec exit codes arrive exactly", async () => {
      for (const code of [0, 1, 3, 255]) {
        const result = await ssh(demo, `exit ${code}`);
        assert.equal(result.code, code, result.stderr);
      }
    });

    await step("exec runs through /bin/sh -c as with OpenSSH", async () => {
      const result = await ssh(demo, "echo $HOME; exit 3");
      assert.equal(result.stdout, "/root\n");
      assert.equal(result.code, 3);
    });

    await step("stdin EOF reaches the process", async () => {
      const result = await ssh(demo, "wc -c", { stdin: "abc" });
      assert.equal(result.stdout.trim(), "3");
      assert.equal(result.code, 0);
    });

    await step("without a TTY stdout and stderr stay separate", async () => {
      const result = await ssh(demo, "echo out; echo err >&2");
      assert.equal(result.stdout, "out\n");
      assert.equal(result.stderr, "err\n");
    });

    await step("only allow-listed env reaches the container", async () => {
      const result = await ssh(demo, 'echo "$LANG|$LC_TEST|$LD_PRELOAD|$NOPE"', {
        args: ["-o", "SendEnv=LANG LC_TEST LD_PRELOAD NOPE"],
        env: { LANG: "C.UTF-8", LC_TEST: "yes", LD_PRELOAD: "/tmp/evil.so", NOPE: "no" },
      });
      assert.equal(result.stdout, "C.UTF-8|yes||\n");
    });

    await step("a wrong password is rejected", async () => {
      const result = await ssh({ ...demo, password: "wrong" }, "true");
      assert.equal(result.code, 255);
      assert.match(result.stderr, /Permission denied/);
    });

    await step("an unknown user is rejected", async () => {
      const result = await ssh({ ...demo, user: "nobody" }, "true");
      assert.equal(result.code, 255);
      assert.match(result.stderr, /Permission denied/);
    });

    await step("a configured key logs in; another key does not", async () => {
      const ok = await ssh(
        { port: capsule.port, user: "alice", identityFile: alice.file },
        "whoami",
      );
      assert.equal(ok.code, 0, ok.stderr);
      assert.equal(ok.stdout, "root\n");
      const denied = await ssh(
        { port: capsule.port, user: "alice", identityFile: mallory.file },
        "true",
      );
      assert.equal(denied.code, 255);
      assert.match(denied.stderr, /Permission denied/);
      const wrongUser = await ssh(
        { port: capsule.port, user: "demo", identityFile: alice.file },
        "true",
      );
      assert.equal(wrongUser.code, 255);
    });

    await step("a shell with a PTY prompts, resizes and exits", async () => {
      const { client, channel, done } = await ptyShell(demo);
      try {
        channel.setWindow(50, 132, 0, 0);
        await new Promise((r) => setTimeout(r, 500));
        channel.write("stty size; echo TERM=$TERM\n");
        const text = await waitForOutput(channel, (s) => /TERM=xterm/.test(s));
        assert.match(text, /50 132/);
        channel.write("exit 7\n");
        const result = await done;
        assert.equal(result.code, 7);
      } finally {
        client.end();
      }
    });

    await step("Ctrl-C in a PTY interrupts the foreground process", async () => {
      const { client, channel, done } = await ptyShell(demo);
      try {
        channel.write("sleep 100\n");
        await new Promise((r) => setTimeout(r, 500));
        channel.write("\x03");
        channel.write("echo after-$((40+2))\n");
        await waitForOutput(channel, (s) => s.includes("after-42"));
        channel.write("exit\n");
        assert.equal((await done).code, 0);
      } finally {
        client.end();
      }
    });

    await step("a signal request ends the process", async () => {
      const client = await connectSsh2(demo);
      try {
        const channel = await openChannel(client, { exec: "echo started; sleep 100" });
        const done = collect(channel);
        await waitForOutput(channel, (s) => s.includes("started"));
        channel.signal("TERM");
        const result = await done;
        assert.ok(
          result.signal === "SIGTERM",
          `expected TERM, got ${JSON.stringify(result)}`,
        );
      } finally {
        client.end();
      }
    });

    await step("two concurrent sessions are isolated", async () => {
      const first = ssh(demo, "echo a > /tmp/marker; sleep 3; cat /tmp/marker");
      await new Promise((r) => setTimeout(r, 1000));
      const second = await ssh(
        demo,
        "cat /tmp/marker 2>/dev/null || echo absent; echo b > /tmp/marker",
      );
      assert.equal(second.stdout, "absent\n");
      assert.equal((await first).stdout, "a\n");
    });

    await step("a client killed with SIGKILL leaves no container", async () => {
      // A key login, so that the child is ssh itself and not sshpass.
      const [program, ...args] = sshCommand(
        { port: capsule.port, user: "alice", identityFile: alice.file },
        "sleep 300",
      );
      const child = new Deno.Command(program!, {
        args,
        stdin: "null",
        stdout: "null",
        stderr: "null",
      }).spawn();
      const deadline = Date.now() + 20_000;
      while ((await capsuleContainers(capsule.instance)).length === 0 && Date.now() < deadline) {
        await new Promise((r) => setTimeout(r, 100));
      }
      assert.equal(
        (await capsuleContainers(capsule.instance)).length,
        1,
        "the session container should be running",
      );
      // The TCP connection drops without a goodbye.
      child.kill("SIGKILL");
      await child.status;
    });

    await step("a missing shell gives one clear line", async () => {
      const result = await ssh({ ...demo, user: "broken" }, "true");
      assert.equal(result.code, 127);
      assert.equal(
        result.stderr,
        'capsule: Cannot start session: shell "/bin/bash" not found in image "busybox"\n',
      );
    });

    await step("a missing image gives one clear line", async () => {
      const result = await ssh({ ...demo, user: "ghost" }, "true");
      assert.equal(result.code, 125);
      assert.match(
        result.stderr,
        /^capsule: Cannot start a container: image "capsule-test\/missing:none"/,
      );
      assert.equal(result.stderr.split("\n").length, 2, "exactly one line");
    });

    await step("32 MiB on stdout and 32 MiB on stderr at once arrive byte-exact", async () => {
      const size = 32 * 1024 * 1024;
      const expectedOut = seqBytes(1, 6_000_000, size);
      const expectedErr = seqBytes(10_000_001, 16_000_000, size);
      const [program, ...args] = sshCommand(
        demo,
        `seq 1 6000000 | head -c ${size} & seq 10000001 16000000 | head -c ${size} >&2; wait`,
      );
      const out = await new Deno.Command(program!, { args, stdout: "piped", stderr: "piped" })
        .output();
      assert.equal(out.code, 0);
      assert.equal(out.stdout.length, size);
      assert.equal(out.stderr.length, size);
      assert.equal(sha256(out.stdout), sha256(expectedOut));
      assert.equal(sha256(out.stderr), sha256(expectedErr));
    });

    await step("the server is still serving after all of it", async () => {
      const result = await ssh(demo, "echo alive");
      assert.equal(result.stdout, "alive\n");
    });
  } finally {
    const code = await capsule.stop();
    await Deno.remove(keysDir, { recursive: true });
    assert.equal(code, 0, "capsule exits 0 on SIGTERM");
    await assertNoContainersLeft(15_000, capsule.instance);
  }
});
