/**
 * End to end: capsule behind the operator's own OpenSSH server. A real
 * Debian sshd on a loopback port, configured with the lines `capsule
 * sshd-config` prints (AuthorizedKeysCommand `capsule auth-keys`, whose
 * keys force `capsule spawn`), local Unix users, and the capsule daemon
 * serving their unix sockets; driven by OpenSSH's ssh and sftp, in `session`
 * and `persistent` modes.
 */
import assert from "node:assert/strict";
import { stringify } from "yaml";
import { deepMerge, startCapsule } from "../helpers/capsule_process.ts";
import { assertNoContainersLeft, requireEngine, requireImage } from "../helpers/docker.ts";
import { addUnixUser, makeKey, removeUnixUser, run, startSshd } from "../helpers/openssh_server.ts";
import { pollUntil } from "../helpers/poll.ts";
import { type Login, ssh, sshArgs } from "../helpers/ssh_client.ts";
import { Background } from "../helpers/background.ts";

const ROOT = new URL("../../", import.meta.url).pathname;

/**
 * Drives OpenSSH's ssh on a real terminal (a pty of its own, 24x80): waits
 * for the prompt, reads the size, resizes the terminal to 50x132 (the kernel
 * sends ssh SIGWINCH), reads it again, interrupts a sleep with Ctrl-C, exits
 * with 7. Prints JSON: the exit code and everything the terminal showed.
 */
const PTY_DRIVER = String.raw`
import fcntl, json, os, pty, re, select, struct, sys, termios, time
args = json.loads(sys.argv[1])
pid, fd = pty.fork()
if pid == 0:
    fcntl.ioctl(0, termios.TIOCSWINSZ, struct.pack("HHHH", 24, 80, 0, 0))
    os.execvp(args[0], args)
out = b""
mark = 0
def expect(pattern, timeout=30):
    global out, mark
    deadline = time.time() + timeout
    while True:
        m = re.search(pattern, out[mark:])
        if m:
            mark += m.end()
            return
        if time.time() > deadline:
            raise SystemExit(json.dumps({"code": -1, "out": out.decode(errors="replace"), "waiting": pattern.decode()}))
        r, _, _ = select.select([fd], [], [], 0.2)
        if r:
            try:
                out += os.read(fd, 4096)
            except OSError:
                raise SystemExit(json.dumps({"code": -2, "out": out.decode(errors="replace")}))
def send(text):
    os.write(fd, text.encode())
expect(rb"# ")
send("stty size\n")
expect(rb"24 80")
expect(rb"# ")
fcntl.ioctl(fd, termios.TIOCSWINSZ, struct.pack("HHHH", 50, 132, 0, 0))
time.sleep(0.5)
send("stty size\n")
expect(rb"50 132")
expect(rb"# ")
send("sleep 100\n")
time.sleep(0.5)
send("\x03")
send("echo after-$((40+2))\n")
expect(rb"after-42")
send("exit 7\n")
while True:
    try:
        chunk = os.read(fd, 4096)
        if not chunk:
            break
        out += chunk
    except OSError:
        break
_, status = os.waitpid(pid, 0)
print(json.dumps({"code": os.waitstatus_to_exitcode(status), "out": out.decode(errors="replace")}))
`;

Deno.test("end to end: capsule behind OpenSSH's sshd", async (t) => {
  assert.equal(Deno.uid(), 0, "this test runs sshd and makes Unix users: it needs root");
  await requireEngine();
  await requireImage("busybox:latest");
  const tag = crypto.randomUUID().replaceAll("-", "").slice(0, 6);
  const alice = `cs${tag}a`;
  const bob = `cs${tag}b`;
  // sshd runs the AuthorizedKeysCommand only from root-owned directories no
  // one else may write, all the way up: not under /tmp.
  const dir = `/run/capsule-sshd-e2e-${tag}`;
  await Deno.mkdir(dir, { mode: 0o755 });
  await Deno.chmod(dir, 0o755);
  let sshd: Awaited<ReturnType<typeof startSshd>> | undefined;
  try {
    // The Unix users run `capsule spawn` from this checkout: Deno's npm
    // cache, with all of capsule's packages, must be theirs to read (root's
    // home is not).
    await run(Deno.execPath(), ["cache", "--frozen", `${ROOT}main.ts`]);
    const { npmCache } = JSON.parse(await run(Deno.execPath(), ["info", "--json"]));
    await Deno.mkdir(`${dir}/deno`);
    await run("cp", ["-r", npmCache, `${dir}/deno/npm`]);
    await run("chmod", ["-R", "a+rwX", `${dir}/deno`]);
    await Deno.mkdir(`${dir}/bin`, { mode: 0o755 });
    const capsule = `${dir}/bin/capsule`;
    await Deno.writeTextFile(
      capsule,
      `#!/bin/sh\nexport DENO_DIR=${dir}/deno NO_COLOR=1\n` +
        `exec ${Deno.execPath()} run -A --cached-only --frozen ${ROOT}main.ts "$@"\n`,
      { mode: 0o755 },
    );
    await Deno.chmod(capsule, 0o755);

    await addUnixUser(alice);
    const bobHome = await addUnixUser(bob);
    const keys = `${dir}/keys`;
    await Deno.mkdir(keys, { mode: 0o700 });
    const aliceKey = await makeKey(`${keys}/alice`);
    const bobKey = await makeKey(`${keys}/bob`);
    const bobAsAliceKey = await makeKey(`${keys}/bob-as-alice`);
    // bob is no user of capsule: sshd's own authorized_keys let him in, once
    // to this host, once (misconfigured) through alice's socket.
    const sockets = `${dir}/users`;
    await Deno.mkdir(`${bobHome.home}/.ssh`, { mode: 0o700 });
    await Deno.writeTextFile(
      `${bobHome.home}/.ssh/authorized_keys`,
      `${bobKey}\ncommand="${capsule} spawn --user ${alice} --socket-dir ${sockets}" ${bobAsAliceKey}\n`,
    );
    await run("chown", ["-R", `${bob}:${bob}`, `${bobHome.home}/.ssh`]);

    const base = {
      server: { userSockets: { dir: sockets } },
      container: { image: "busybox:latest" },
      users: { [alice]: { authorizedKeys: [aliceKey] } },
    };
    const configFile = `${dir}/config.yaml`;
    await Deno.writeTextFile(configFile, stringify(base), { mode: 0o644 });

    await t.step("sshd-config prints the lines, and sshd's checks pass", async () => {
      const out = await run(capsule, [
        "sshd-config",
        "--config",
        configFile,
        "--spawn-command",
        capsule,
        "--keys-user",
        "nobody",
      ]);
      assert.match(
        out,
        new RegExp(
          `^AuthorizedKeysCommand ${capsule} auth-keys --config ${configFile} --spawn-command ${capsule} %u %t %k$`,
          "m",
        ),
      );
      assert.match(out, /^AuthorizedKeysCommandUser nobody$/m);
      assert.match(out, /All checks passed/);
      sshd = await startSshd(dir, out);
    });
    assert.ok(sshd, "sshd did not start");
    const server = sshd;

    await t.step("auth-keys prints forced-command lines for capsule's users only", async () => {
      const [type, base64] = aliceKey.split(" ");
      const line = await run("runuser", [
        "-u",
        "nobody",
        "--",
        capsule,
        "auth-keys",
        "--config",
        configFile,
        "--spawn-command",
        capsule,
        alice,
        type!,
        base64!,
      ]);
      assert.equal(
        line,
        `restrict,pty,command="${capsule} spawn --user ${alice} --socket-dir ${sockets}" ${type} ${base64}\n`,
      );
      for (const user of [bob, "../etc", "root"]) {
        assert.equal(await run(capsule, ["auth-keys", "--config", configFile, user]), "");
      }
    });

    const login = (user: string, key: string): Login => ({
      port: server.port,
      user,
      identityFile: `${keys}/${key}`,
    });
    const asAlice = login(alice, "alice");

    await t.step("a user capsule does not know falls through to sshd's own keys", async () => {
      const result = await ssh(login(bob, "bob"), "id -un; echo on-the-host");
      assert.equal(result.stdout, `${bob}\non-the-host\n`, result.stderr + server.log());
      assert.equal(result.code, 0);
    });

    for (const mode of ["session", "persistent"] as const) {
      await t.step(`${mode} mode`, async (t) => {
        const daemon = await startCapsule({
          config: deepMerge(base, { container: { mode, gracePeriod: 0 } }),
        });
        const noneLeft = () => assertNoContainersLeft(15_000, daemon.instance);
        const check = (name: string, body: () => Promise<void>) =>
          t.step(name, async () => {
            await body();
            await noneLeft();
          });
        try {
          await check("exec exits with the exact status", async () => {
            for (const code of [0, 1, 3, 255]) {
              const result = await ssh(asAlice, `exit ${code}`);
              assert.equal(result.code, code, result.stderr + server.log());
            }
          });
          await check("the command runs in the container, not on the host", async () => {
            const result = await ssh(asAlice, "id -un; hostname; echo $HOME");
            assert.equal(result.stdout, "root\ncapsule\n/root\n", result.stderr);
            assert.notEqual(Deno.hostname(), "capsule");
          });
          await check("stdin reaches the process and ends with EOF", async () => {
            const result = await ssh(asAlice, "wc -c", { stdin: "abcd" });
            assert.equal(result.stdout.trim(), "4", result.stderr);
            assert.equal(result.code, 0);
          });
          await check("stderr stays apart from stdout", async () => {
            const result = await ssh(asAlice, "echo out; echo err >&2; exit 1");
            assert.equal(result.stdout, "out\n");
            assert.equal(result.stderr, "err\n");
            assert.equal(result.code, 1);
          });
          await check("a signal ends the process as 128+n", async () => {
            const result = await ssh(asAlice, "kill -TERM $$");
            assert.equal(result.code, 143, result.stderr);
          });
          await check("a signal to capsule spawn reaches the process", async () => {
            const client = new Background([
              "ssh",
              ...sshArgs(asAlice),
              `${alice}@127.0.0.1`,
              "--",
              "trap 'echo got-TERM; exit 9' TERM; echo started; while :; do sleep 1; done",
            ]);
            await client.waitFor(/started/);
            const spawn = (await run("pgrep", ["-u", alice, "-f", "main.ts spawn"])).trim();
            assert.match(spawn, /^\d+$/, `one spawn process: ${spawn}`);
            Deno.kill(Number(spawn), "SIGTERM");
            assert.equal(await client.finish(), 9, client.stderr);
            assert.equal(client.stdout, "started\ngot-TERM\n");
          });
          await check("a shell with a PTY follows a resize, and Ctrl-C interrupts", async () => {
            const args = ["ssh", ...sshArgs(asAlice), "-tt", `${alice}@127.0.0.1`];
            const out = await run("/usr/bin/python3", ["-c", PTY_DRIVER, JSON.stringify(args)]);
            const result = JSON.parse(out) as { code: number; out: string };
            assert.equal(result.code, 7, result.out);
          });
          await check("SFTP put and get, in an image without sftp-server", async () => {
            const local = `${dir}/upload-${mode}.txt`;
            await Deno.writeTextFile(local, `hello ${mode}\n`);
            const batch = `${dir}/batch-${mode}`;
            await Deno.writeTextFile(
              batch,
              `put ${local} /tmp/up.txt\nget /tmp/up.txt ${local}.back\n`,
            );
            const [, ...args] = ["ssh", ...sshArgs(asAlice)];
            const out = await new Deno.Command("sftp", {
              args: [
                ...args.map((a) => (a === "-p" ? "-P" : a)),
                "-b",
                batch,
                `${alice}@127.0.0.1`,
              ],
              stdout: "piped",
              stderr: "piped",
            }).output();
            const stderr = new TextDecoder().decode(out.stderr);
            assert.equal(out.code, 0, stderr + server.log());
            assert.equal(await Deno.readTextFile(`${local}.back`), `hello ${mode}\n`);
          });
          await check("another user's socket is refused with one clear line", async () => {
            const result = await ssh(login(bob, "bob-as-alice"), "echo nope");
            assert.equal(result.code, 255);
            assert.equal(result.stdout, "");
            assert.equal(
              result.stderr,
              `capsule: Permission denied: "${sockets}/${alice}/capsule.sock" is for the user "${alice}" only\n`,
            );
          });
        } finally {
          assert.equal(await daemon.stop(), 0);
        }
        await check("with the daemon stopped: one clear line and 255", async () => {
          const result = await ssh(asAlice, "echo hi");
          assert.equal(result.code, 255);
          assert.equal(result.stdout, "");
          assert.equal(
            result.stderr,
            `capsule: capsule is not running: nothing listens on "${sockets}/${alice}/capsule.sock"\n`,
          );
        });
      });
    }
  } finally {
    await sshd?.stop();
    await removeUnixUser(alice);
    await removeUnixUser(bob);
    await Deno.remove(dir, { recursive: true }).catch(() => {});
  }
  // The socket directory's owner is alice: nothing may outlive her account.
  await pollUntil(() => Deno.stat(dir).then(() => true, () => false), (exists) => !exists, 5_000);
});
