/**
 * End to end: clients that nobody here wrote, beyond OpenSSH — Dropbear's
 * `dbclient`, PuTTY's `plink`, paramiko — and the channel cases they hit:
 * a window change sent while the container starts, a key-exchange guess, a
 * session channel closed before it started, a refused subsystem through an
 * OpenSSH ControlMaster.
 */
import assert from "node:assert/strict";
import { hashPassword } from "../../src/auth/mod.ts";
import { PYTHON } from "../helpers/adversary.ts";
import { run } from "../helpers/file_clients.ts";
import { type CapsuleProcess, startCapsule } from "../helpers/capsule_process.ts";
import { assertNoContainersLeft, requireEngine } from "../helpers/docker.ts";
import { type Login, ssh, sshArgs, sshCommand } from "../helpers/ssh_client.ts";

const PASSWORD = "s3cret";
const RAW_SESSION = new URL("./clients/raw_session.py", import.meta.url).pathname;

async function rawSession(login: Login, ...args: string[]): Promise<Record<string, unknown>> {
  const result = await run([
    PYTHON,
    RAW_SESSION,
    String(login.port),
    login.user,
    PASSWORD,
    ...args,
  ]);
  assert.equal(result.code, 0, `raw_session.py ${args.join(" ")} failed:\n${result.stderr}`);
  return JSON.parse(result.stdout);
}

Deno.test("end to end: interoperability with other clients", async (t) => {
  await requireEngine();
  const passwordHash = await hashPassword(PASSWORD);
  const capsule: CapsuleProcess = await startCapsule({
    config: {
      server: { penalties: { enabled: false }, maxStartupsPerSource: 20 },
      users: {
        alice: { passwordHash },
        conn: { passwordHash, container: { mode: "connection" } },
        pers: { passwordHash, container: { mode: "persistent", gracePeriod: 1 } },
        pool: { passwordHash, container: { pool: { size: 1 } } },
      },
    },
  });
  const login = (user: string): Login => ({ port: capsule.port, user, password: PASSWORD });
  const hostKey = String(
    capsule.logs().find((r) => r.event === "host_key.loaded")?.fingerprint ?? "",
  );

  try {
    for (const user of ["alice", "conn", "pers", "pool"]) {
      await t.step(
        `${user}: the last window change sent during start-up reaches the process`,
        async () => {
          for (const changes of ["1", "100"]) {
            const result = await rawSession(login(user), "resize", changes);
            assert.deepEqual(result, { output: "33 101", status: 0 }, `${changes} change(s)`);
          }
        },
      );
    }

    await t.step("ssh -tt with stdin at EOF still prints a short command's output", async () => {
      // Half-closing a TTY container's stdin used to lose the output about half the time.
      for (const user of ["alice", "pers"]) {
        for (let i = 0; i < 4; i++) {
          const result = await ssh(login(user), 'printf "tty-out\\n"; exit 3', { args: ["-tt"] });
          assert.equal(result.stdout, "tty-out\r\n", `${user}, try ${i + 1}: ${result.stderr}`);
          assert.equal(result.code, 3);
        }
      }
    });

    await t.step("Dropbear's dbclient runs a command with its exit status", async () => {
      const result = await run(
        ["dbclient", "-y", "-y", "-p", String(capsule.port), "alice@127.0.0.1", "echo hi; exit 3"],
        { env: { DROPBEAR_PASSWORD: PASSWORD, HOME: capsule.dir }, timeoutMs: 30_000 },
      );
      assert.equal(result.timedOut, false, "dbclient hung");
      assert.equal(result.stdout, "hi\n", result.stderr);
      assert.equal(result.code, 3, result.stderr);
    });

    await t.step("dbclient with no common MAC is refused at once, not left hanging", async () => {
      const result = await run(
        [
          "dbclient",
          "-y",
          "-y",
          "-c",
          "aes128-ctr",
          "-m",
          "hmac-sha1",
          "-p",
          String(capsule.port),
          "alice@127.0.0.1",
          "true",
        ],
        { env: { DROPBEAR_PASSWORD: PASSWORD, HOME: capsule.dir }, timeoutMs: 15_000 },
      );
      assert.equal(result.timedOut, false, "dbclient hung");
      assert.notEqual(result.code, 0);
      assert.match(result.stderr, /No matching algo/);
    });

    await t.step("PuTTY's plink runs a command with its exit status", async () => {
      assert.match(hostKey, /^SHA256:/);
      const result = await run([
        "plink",
        "-batch",
        "-ssh",
        "-P",
        String(capsule.port),
        "-pw",
        PASSWORD,
        "-hostkey",
        hostKey,
        "alice@127.0.0.1",
        "echo hi; echo err >&2; exit 4",
      ], { env: { HOME: capsule.dir } });
      assert.equal(result.timedOut, false, "plink hung");
      assert.equal(result.stdout, "hi\n");
      assert.match(result.stderr, /err/);
      assert.equal(result.code, 4);
    });

    await t.step("a session channel closed before it started gets its close answered", async () => {
      for (const request of ["", "subsystem"]) {
        const result = await rawSession(login("alice"), "close-unstarted", request);
        assert.equal(result.answered, true, `no CHANNEL_CLOSE back (request: "${request}")`);
        if (request) assert.equal(result.refused, true);
        assert.equal(result.after, "still-serving");
        assert.equal(result.after_status, 0);
      }
    });

    await t.step(
      "a client that keeps asking for a refused subsystem gets the channel closed",
      async () => {
        const result = await rawSession(login("alice"), "refused-loop");
        assert.deepEqual(result, { asked: 3, closed: true, after: "still-serving" });
      },
    );

    await t.step("a refused subsystem through a ControlMaster returns at once", async () => {
      const socket = `${capsule.dir}/master.sock`;
      const base = sshArgs(login("alice"));
      // In the foreground, as a child: a master forked by `-f` under sshpass
      // dies with sshpass's terminal.
      const master = new Deno.Command("sshpass", {
        args: [
          "-p",
          PASSWORD,
          "ssh",
          ...base,
          "-o",
          "ControlMaster=yes",
          "-o",
          `ControlPath=${socket}`,
          "-N",
          "alice@127.0.0.1",
        ],
        stdin: "null",
        stdout: "null",
        stderr: "null",
      }).spawn();
      const deadline = Date.now() + 20_000;
      while (Date.now() < deadline) {
        const check = await run(["ssh", "-o", `ControlPath=${socket}`, "-O", "check", "x"]);
        if (check.code === 0) break;
        await new Promise((r) => setTimeout(r, 100));
      }
      const viaMaster = (extra: string[], command?: string) =>
        run(
          sshCommand({ port: capsule.port, user: "alice" }, command, [
            "-o",
            `ControlPath=${socket}`,
            "-o",
            "ControlMaster=no",
            ...extra,
          ]),
          { timeoutMs: 20_000 },
        );
      try {
        const refused = await viaMaster(["-s"], "nosuch");
        assert.equal(refused.timedOut, false, "the mux client hung on a refused subsystem");
        assert.notEqual(refused.code, 0);
        const after = await viaMaster([], "echo still-serving; exit 5");
        assert.equal(after.stdout, "still-serving\n", after.stderr);
        assert.equal(after.code, 5);
      } finally {
        await run(["ssh", "-o", `ControlPath=${socket}`, "-O", "exit", "x"]);
        await master.status;
      }
    });
  } finally {
    const code = await capsule.stop();
    assert.equal(code, 0);
  }
  // After the stop: the warm pool keeps a container ready until then.
  await assertNoContainersLeft(20_000, capsule.instance);
});
