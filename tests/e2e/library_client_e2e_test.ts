/**
 * capsule as a library: `openClient()`, an in-process SSH client over a pair
 * of in-memory streams (an ephemeral key, no TCP), against the real engine.
 * Resource sanitizers stay on: `close()` must leave no stream, timer or
 * container behind.
 */
import assert from "node:assert/strict";
import { type Capsule, ClientError, startCapsule } from "../../mod.ts";
import { createLogger, silentLogger } from "../../src/log/mod.ts";
import { demoPasswordHash } from "../helpers/demo_capsule.ts";
import { assertNoContainersLeft, capsuleContainers, requireEngine } from "../helpers/docker.ts";

await requireEngine();

const text = (bytes: Uint8Array) => new TextDecoder().decode(bytes);

/** Starts capsule without a listener, runs `body`, then closes it and checks nothing is left. */
async function withCapsule(
  body: (capsule: Capsule, instance: string) => Promise<void>,
): Promise<void> {
  const dir = await Deno.makeTempDir({ prefix: "capsule-client-" });
  const instance = `client-${crypto.randomUUID().slice(0, 8)}`;
  const passwordHash = await demoPasswordHash();
  const capsule = await startCapsule({
    server: { stateDir: `${dir}/state`, instance, penalties: { enabled: false } },
    users: {
      demo: { passwordHash },
      conn: { passwordHash, container: { mode: "connection" } },
      solo: { passwordHash, limits: { sessionsPerUser: 1 } },
    },
  }, {
    listen: false,
    logger: Deno.env.get("DEBUG_LOG")
      ? createLogger({ level: "debug", format: "json" })
      : silentLogger(),
  });
  try {
    await body(capsule, instance);
  } finally {
    await capsule.close();
    await assertNoContainersLeft(15_000, instance);
    await Deno.remove(dir, { recursive: true });
  }
}

/** Reads `reader` until its text so far matches `pattern`; fails if it ends first. */
async function readUntil(
  reader: ReadableStreamDefaultReader<Uint8Array>,
  pattern: RegExp,
  seen: { text: string },
): Promise<RegExpMatchArray> {
  const decoder = new TextDecoder();
  // A safety net so that a broken shell fails the test instead of hanging it.
  let timer: ReturnType<typeof setTimeout> | undefined;
  const late = new Promise<never>((_, reject) => {
    timer = setTimeout(
      () => reject(new Error(`No ${pattern} in ${JSON.stringify(seen.text)}`)),
      30_000,
    );
  });
  try {
    for (;;) {
      const match = seen.text.match(pattern);
      if (match) return match;
      const { done, value } = await Promise.race([reader.read(), late]);
      if (done) {
        throw new Error(`The output ended without ${pattern}: ${JSON.stringify(seen.text)}`);
      }
      seen.text += decoder.decode(value, { stream: true });
    }
  } finally {
    clearTimeout(timer);
  }
}

Deno.test("openClient() runs commands with their output and exit status, and close() removes the containers", async () => {
  await withCapsule(async (capsule, instance) => {
    const client = await capsule.openClient("demo");
    assert.equal(client.user, "demo");
    const ok = await client.exec("id -un; exit 0");
    assert.deepEqual({ ...ok, stdout: text(ok.stdout), stderr: text(ok.stderr) }, {
      stdout: "root\n",
      stderr: "",
      status: 0,
      signal: null,
    });
    const failed = await client.exec("printf 'out\\n'; printf 'err\\n' >&2; exit 3");
    assert.equal(text(failed.stdout), "out\n");
    assert.equal(text(failed.stderr), "err\n");
    assert.equal(failed.status, 3);
    const input = await client.exec("wc -c", { stdin: "four" });
    assert.equal(text(input.stdout).trim(), "4");
    // Bytes come back as they are, not as text.
    const binary = await client.exec("printf '\\377\\000\\001'");
    assert.deepEqual(binary.stdout, new Uint8Array([0xff, 0, 1]));

    // A channel left open: close() closes it, and waits for its container to go.
    const shell = await client.shell({ pty: false });
    const reader = shell.output.getReader();
    const writer = shell.stdin.getWriter();
    await writer.write(new TextEncoder().encode("echo re''ady\n"));
    await readUntil(reader, /ready/, { text: "" });
    assert.equal((await capsuleContainers(instance)).length, 1, "the shell's container runs");
    reader.releaseLock();
    writer.releaseLock();
    await client.close();
    assert.deepEqual(await capsuleContainers(instance), [], "no container once close() resolved");
    assert.deepEqual(await shell.wait(), { status: null, signal: null });
    await assert.rejects(() => client.exec("true"), (error) => {
      assert.ok(error instanceof ClientError);
      assert.equal(error.code, "CLIENT_CLOSED");
      return true;
    });
  });
});

Deno.test("openClient() shell: a PTY of the asked size, resize, a signal, and the exit status", async () => {
  await withCapsule(async (capsule) => {
    await using client = await capsule.openClient("demo");
    const shell = await client.shell({ pty: { cols: 100, rows: 30, term: "xterm" } });
    const reader = shell.output.getReader();
    const writer = shell.stdin.getWriter();
    const seen = { text: "" };
    const send = (line: string) => writer.write(new TextEncoder().encode(line + "\n"));
    // `s''ize`: the echo of what was typed must not match what the command prints.
    await send("echo s''ize $(stty size) $TERM");
    await readUntil(reader, /size 30 100 xterm/, seen);
    shell.resize(120, 40);
    seen.text = "";
    await send("echo s''ize $(stty size)");
    await readUntil(reader, /size 40 120/, seen);
    // The signal reaches the session's process (the shell, replaced by a
    // script that traps it; sh runs the trap once its `sleep 1` is over).
    await send(
      `exec sh -c 'trap "echo got-""int; exit 9" INT; echo trap""ped; while :; do sleep 1; done'`,
    );
    await readUntil(reader, /trapped/, seen);
    shell.signal("INT");
    await readUntil(reader, /got-int/, seen);
    assert.deepEqual(await shell.wait(), { status: 9, signal: null });
    assert.throws(() => shell.resize(80, 24), ClientError);
    assert.throws(() => shell.signal("BOGUS"), RangeError);
    reader.releaseLock();
    writer.releaseLock();

    // A signal that ends the process.
    const killed = await client.shell({ pty: false });
    const killedInput = killed.stdin.getWriter();
    await killedInput.write(new TextEncoder().encode("echo re''ady\n"));
    await readUntil(killed.output.getReader(), /ready/, { text: "" });
    killed.signal("KILL");
    // capsule reports the status the engine gives (128 + 9), as for any client.
    const exit = await killed.wait();
    assert.ok(exit.signal === "KILL" || exit.status === 137, JSON.stringify(exit));

    const detached = await client.shell();
    await detached.detach();
  });
});

Deno.test("openClient() SFTP: 1 MiB byte-exact, mkdir, rename, realpath, symlink, remove", async () => {
  await withCapsule(async (capsule) => {
    // `connection` mode: SFTP and exec share the connection's container.
    await using client = await capsule.openClient("conn");
    await using sftp = await client.sftp();
    const data = new Uint8Array(1024 * 1024);
    // getRandomValues() fills at most 64 KiB at a time.
    for (let at = 0; at < data.length; at += 65536) {
      crypto.getRandomValues(data.subarray(at, at + 65536));
    }
    const home = text((await client.exec("pwd")).stdout).trim();
    assert.equal(await sftp.realpath("."), home);
    await sftp.mkdir("dir");
    await sftp.writeFile("dir/blob", data);
    assert.deepEqual(await sftp.readFile("dir/blob"), data);
    const digest = new Uint8Array(await crypto.subtle.digest("SHA-256", data));
    const hex = [...digest].map((b) => b.toString(16).padStart(2, "0")).join("");
    const sum = await client.exec("sha256sum dir/blob");
    assert.equal(text(sum.stdout).split(" ")[0], hex, "the container has the same bytes");

    await sftp.rename("dir/blob", "dir/moved");
    assert.equal((await sftp.stat("dir/moved")).size, data.length);
    await assert.rejects(() => sftp.stat("dir/blob"), ClientError);
    await sftp.symlink("moved", "dir/link");
    assert.equal(await sftp.readlink("dir/link"), "moved");
    assert.equal((await sftp.lstat("dir/link")).isSymbolicLink, true);
    assert.equal(text((await client.exec("readlink dir/link")).stdout), "moved\n");
    assert.equal(await sftp.realpath("dir/link"), `${home === "/" ? "" : home}/dir/moved`);
    assert.deepEqual((await sftp.readdir("dir")).map((e) => e.name).sort(), ["link", "moved"]);
    await sftp.writeFile("dir/note.txt", "héllo\n");
    assert.equal(text(await sftp.readFile("dir/note.txt")), "héllo\n");

    await sftp.unlink("dir/link");
    await sftp.unlink("dir/moved");
    await sftp.unlink("dir/note.txt");
    await assert.rejects(() => sftp.unlink("dir/moved"), /Cannot unlink "dir\/moved"/);
    await sftp.rmdir("dir");
    assert.equal((await client.exec("test -e dir")).status, 1);
  });
});

Deno.test("openClient() refuses a user the config does not have", async () => {
  await withCapsule(async (capsule) => {
    await assert.rejects(() => capsule.openClient("nobody"), (error) => {
      assert.ok(error instanceof ClientError);
      assert.equal(error.code, "LOGIN_FAILED");
      assert.match(error.message, /Cannot log in "nobody"/);
      return true;
    });
  });
});

Deno.test("openClient() is held to the user's limits", async () => {
  await withCapsule(async (capsule) => {
    await using client = await capsule.openClient("solo");
    assert.equal((await client.exec("true")).status, 0);
    const shell = await client.shell({ pty: false });
    const reader = shell.output.getReader();
    const writer = shell.stdin.getWriter();
    await writer.write(new TextEncoder().encode("echo re''ady\n"));
    await readUntil(reader, /ready/, { text: "" });
    const second = await client.exec("echo should-not-run");
    assert.equal(second.status, 255);
    assert.equal(text(second.stdout), "");
    assert.match(text(second.stderr), /capsule: Too many sessions for user "solo" \(1\)/);
    reader.releaseLock();
    writer.releaseLock();
    await shell.detach();
  });
});
