/**
 * End to end: the real capsule process, the real Docker engine, the real
 * OpenSSH client (with sshpass) and an ssh2 client.
 */
import assert from "node:assert/strict";
import { createHash } from "node:crypto";
import { logTail } from "../helpers/adversary.ts";
import { demoPasswordHash, startDemoCapsule } from "../helpers/demo_capsule.ts";
import { checkSessionBehaviour } from "../helpers/session_checks.ts";
import { assertNoContainersLeft, capsuleContainers, requireEngine } from "../helpers/docker.ts";
import { ssh, sshCommand } from "../helpers/ssh_client.ts";

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
  const passwordHash = await demoPasswordHash();
  // The penalties are off: wrong-password cases below must not lock the test's own address out.
  const { capsule, login: demo } = await startDemoCapsule({
    config: {
      users: {
        alice: { authorizedKeys: [alice.pub] },
        broken: { passwordHash, container: { shell: "/bin/bash" } },
        ghost: { passwordHash, container: { image: "capsule-test/missing:none", pull: "never" } },
      },
    },
  });
  // After each step: no container left; on failure, the server's side of the story.
  const afterEach = (check: () => Promise<void>) => async () => {
    try {
      await check();
      await assertNoContainersLeft(15_000, capsule.instance);
    } catch (error) {
      console.error(`capsule log (last 25 lines):\n${logTail(capsule, 25)}`);
      throw error;
    }
  };
  const step = (name: string, check: () => Promise<void>) => t.step(name, afterEach(check));

  try {
    await t.step(
      "a session behaves as with OpenSSH",
      (t) => checkSessionBehaviour(t, demo, afterEach),
    );

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
