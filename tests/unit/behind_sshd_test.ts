import assert from "node:assert/strict";
import { forcedKeyLines } from "../../src/cli/auth_keys_command.ts";
import { routeOriginalCommand } from "../../src/cli/route_original_command.ts";
import { type CliDeps, runCli } from "../../src/cli/mod.ts";
import { loadConfig } from "../../src/config/mod.ts";

const KEY_A =
  "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIOMqqnkVzrm0SdG6UOoqKLsabgH5C9okWi0dh2l9GKJl a@x";
const KEY_B =
  "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIFLjVsTeG+3yfZyDZYj8GCLn9Rjy5JVV0ebuHmMzuRg1 b@x";
const [TYPE_A, BLOB_A] = KEY_A.split(" ") as [string, string];
const [, BLOB_B] = KEY_B.split(" ") as [string, string];

const config = (values: Record<string, unknown>) => loadConfig({ values, env: {} });

Deno.test("routeOriginalCommand() routes as podspawn does", async (t) => {
  const cases: [string | undefined, ReturnType<typeof routeOriginalCommand>][] = [
    [undefined, { kind: "shell" }],
    ["", { kind: "shell" }],
    ["   ", { kind: "shell" }],
    ["internal-sftp", { kind: "sftp" }],
    ["/usr/lib/openssh/sftp-server", { kind: "sftp" }],
    ["/usr/libexec/sftp-server -l INFO", { kind: "sftp" }],
    ["sftp-server", { kind: "sftp" }],
    ["echo sftp-server", { kind: "exec", command: "echo sftp-server" }],
    ["/usr/bin/my-sftp-server-wrapper", {
      kind: "exec",
      command: "/usr/bin/my-sftp-server-wrapper",
    }],
    ["scp -t /tmp", { kind: "exec", command: "scp -t /tmp" }],
    ["exit 3", { kind: "exec", command: "exit 3" }],
  ];
  for (const [original, expected] of cases) {
    await t.step(String(JSON.stringify(original)), () => {
      assert.deepEqual(routeOriginalCommand(original), expected);
    });
  }
});

Deno.test("forcedKeyLines() forces capsule spawn behind restrict,pty", async () => {
  const loaded = await config({
    server: { userSockets: { dir: "/run/capsule/users" } },
    users: { alice: { authorizedKeys: [KEY_A, KEY_B] } },
  });
  assert.deepEqual(forcedKeyLines(loaded, "alice", { program: "/usr/local/bin/capsule" }), [
    `restrict,pty,command="/usr/local/bin/capsule spawn --user alice" ${TYPE_A} ${BLOB_A}`,
    `restrict,pty,command="/usr/local/bin/capsule spawn --user alice" ${TYPE_A} ${BLOB_B}`,
  ]);
});

Deno.test("forcedKeyLines() prints only the key sshd names", async () => {
  const loaded = await config({
    server: { userSockets: { dir: "/srv/capsule sockets" } },
    users: { alice: { authorizedKeys: [KEY_A, KEY_B] } },
  });
  const lines = forcedKeyLines(loaded, "alice", {
    program: "capsule",
    key: { type: TYPE_A, base64: BLOB_B },
  });
  assert.deepEqual(lines, [
    `restrict,pty,command="capsule spawn --user alice --socket-dir '/srv/capsule sockets'" ${TYPE_A} ${BLOB_B}`,
  ]);
  assert.deepEqual(
    forcedKeyLines(loaded, "alice", {
      program: "capsule",
      key: { type: "ssh-rsa", base64: BLOB_B },
    }),
    [],
  );
});

Deno.test("forcedKeyLines() allows forwarding only where the user's settings do", async () => {
  const loaded = await config({
    server: { userSockets: { dir: "/run/capsule/users" } },
    users: {
      plain: { authorizedKeys: [KEY_A] },
      ports: { authorizedKeys: [KEY_A], container: { forwarding: { local: true } } },
      agent: { authorizedKeys: [KEY_A], container: { forwarding: { agent: true } } },
    },
  });
  const options = (user: string) => forcedKeyLines(loaded, user, { program: "capsule" })[0]!;
  assert.match(options("plain"), /^restrict,pty,command=/);
  assert.match(options("ports"), /^restrict,pty,port-forwarding,command=/);
  assert.match(options("agent"), /^restrict,pty,agent-forwarding,command=/);
});

Deno.test("forcedKeyLines() prints nothing for unknown users, bad names or no sockets", async () => {
  const users = { alice: { authorizedKeys: [KEY_A] }, bob: { authorizedKeys: [KEY_B] } };
  const on = await config({ server: { userSockets: { dir: "/run/c", users: ["bob"] } }, users });
  const off = await config({ users });
  for (const user of ["carol", "../alice", "alice;id", "", "alice"]) {
    assert.deepEqual(forcedKeyLines(on, user, { program: "capsule" }), [], user);
  }
  assert.equal(forcedKeyLines(on, "bob", { program: "capsule" }).length, 1);
  assert.deepEqual(forcedKeyLines(off, "bob", { program: "capsule" }), []);
});

function deps(out: { stdout: string; stderr: string }, env: Record<string, string>): CliDeps {
  return {
    serve: () => Promise.resolve(0),
    generateHostKey: () => ({ privateKey: "", publicKey: "", fingerprint: "" }),
    hashPassword: () => Promise.resolve(""),
    version: "0.0.0",
    stdout: (text) => void (out.stdout += text),
    stderr: (text) => void (out.stderr += text),
    env,
    cwd: "/",
  };
}

Deno.test("capsule auth-keys never fails and writes only key lines to stdout", async (t) => {
  const dir = await Deno.makeTempDir();
  try {
    const file = `${dir}/config.yaml`;
    await Deno.writeTextFile(
      file,
      `server:\n  userSockets:\n    dir: /run/capsule/users\nusers:\n  alice:\n    authorizedKeys: ["${KEY_A}"]\n`,
    );
    const cases: [string, string[], RegExp][] = [
      ["a known user", ["--config", file, "alice", TYPE_A, BLOB_A], /^restrict,pty,command=.*\n$/],
      ["an unknown user", ["--config", file, "carol"], /^$/],
      ["an invalid name", ["--config", file, "../../etc"], /^$/],
      ["a missing config", ["--config", `${dir}/none.yaml`, "alice"], /^$/],
      ["no arguments", [], /^$/],
      ["an unknown flag", ["--nope", "alice"], /^$/],
    ];
    for (const [name, args, stdout] of cases) {
      await t.step(name, async () => {
        const out = { stdout: "", stderr: "" };
        const code = await runCli(["auth-keys", ...args], deps(out, {}));
        assert.equal(code, 0);
        assert.match(out.stdout, stdout);
      });
    }
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("capsule spawn refuses a bad user name", async () => {
  const out = { stdout: "", stderr: "" };
  const code = await runCli(["spawn", "--user", "../x"], deps(out, {}));
  assert.equal(code, 2);
  assert.match(out.stderr, /invalid user name/);
});

Deno.test("capsule spawn: a daemon that is not there is one line and 255", async () => {
  const dir = await Deno.makeTempDir();
  try {
    const out = { stdout: "", stderr: "" };
    const { spawnSession } = await import("../../src/ssh/mod.ts");
    const code = await runCli(
      ["spawn", "--user", "alice", "--socket-dir", dir],
      { ...deps(out, { SSH_ORIGINAL_COMMAND: "true" }), spawn: spawnSession },
    );
    assert.equal(code, 255);
    assert.equal(
      out.stderr,
      `capsule: capsule is not running: nothing listens on "${dir}/alice/capsule.sock"\n`,
    );
    assert.equal(out.stdout, "");
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
