/**
 * End to end: the audit log of a scripted day, compared event by event. Real
 * clients (OpenSSH's `ssh`, `ssh -tt`, `ssh -L`, `sftp`) fail a login, run a
 * shell on a PTY, an exec that exits 3, an SFTP put and get, a refused
 * forward, a client killed mid-session, and an SFTP session past the cap
 * on `sftp.*` events; then the audit file must hold exactly the expected
 * events, per connection and in order.
 */
import assert from "node:assert/strict";
import { logTail } from "../helpers/adversary.ts";
import { DEMO_PASSWORD, demoPasswordHash, startDemoCapsule } from "../helpers/demo_capsule.ts";
import { assertNoContainersLeft, requireEngine } from "../helpers/docker.ts";
import { describe, run, sftpBatch } from "../helpers/file_clients.ts";
import { backgroundSsh, freePort } from "../helpers/background.ts";
import { pollUntil } from "../helpers/poll.ts";
import { type Login, ssh, sshCommand } from "../helpers/ssh_client.ts";

/** The password the failed login tries: it must appear nowhere in the file. */
const WRONG_PASSWORD = "n0t-the-Passw0rd-7q";

type AuditLine = Record<string, unknown> & {
  v: number;
  seq: number;
  event: string;
  connection: string | null;
};

/** One expected event: its name and the fields that must have these values. */
type Expected = { event: string } & Record<string, unknown>;

async function readAudit(path: string): Promise<AuditLine[]> {
  const text = await Deno.readTextFile(path).catch(() => "");
  return text.split("\n").filter((l) => l !== "").map((l) => JSON.parse(l));
}

/** Waits until the audit file has a line that `match` accepts; all its lines. */
function auditUntil(path: string, match: (line: AuditLine) => boolean): Promise<AuditLine[]> {
  return pollUntil(() => readAudit(path), (lines) => lines.some(match), 30_000);
}

/** The lines of `expected`'s keys only, so that the varying fields (times, ids) drop out. */
function project(lines: AuditLine[], expected: Expected[]): Record<string, unknown>[] {
  return lines.map((line, i) => {
    const keys = Object.keys(expected[i] ?? { event: "" });
    return Object.fromEntries(keys.map((k) => [k, line[k]]));
  });
}

const count = (lines: AuditLine[], event: string) => lines.filter((l) => l.event === event).length;

/** How every authenticated OpenSSH login starts: `none` is always tried first. */
function loggedIn(user: string): Expected[] {
  return [
    { event: "connection.open", user: null, client: "OpenSSH_9.2p1" },
    { event: "auth", user, method: "none", result: "rejected" },
    { event: "auth", user, method: "password", result: "accepted" },
  ];
}

/** A session in a container of its own, from its creation to its start. */
function started(user: string, fields: Record<string, unknown>): Expected[] {
  return [
    { event: "container.create", user, placement: "session", image: "busybox" },
    { event: "session.start", user, mode: "session", ...fields },
  ];
}

const closedBy = (user: string | null): Expected => ({
  event: "connection.close",
  user,
  reason: "client",
});

const SFTP_CAP = 8;

/** The day: each client's connection, its events in order with the fields that must match. */
const DAY: [string, Expected[]][] = [
  ["failed login", [
    { event: "connection.open", user: null },
    { event: "auth", user: "demo", method: "none", result: "rejected" },
    { event: "auth", user: "demo", method: "password", result: "rejected" },
    closedBy(null),
  ]],
  ["shell on a PTY", [
    ...loggedIn("demo"),
    ...started("demo", { kind: "shell", pty: true, command: undefined }),
    { event: "session.end", user: "demo", kind: "shell", exit_code: 0, exit_signal: undefined },
    closedBy("demo"),
  ]],
  ["exec exit 3", [
    ...loggedIn("demo"),
    ...started("demo", { kind: "exec", command: "exit 3", pty: false }),
    { event: "session.end", kind: "exec", exit_code: 3, bytes_in: 0, bytes_out: 0 },
    closedBy("demo"),
  ]],
  ["sftp put and get", [
    ...loggedIn("demo"),
    ...started("demo", { kind: "subsystem", subsystem: "sftp", pty: false }),
    // put stats the target first: a directory would take the file's name.
    { event: "sftp.error", user: "demo", status: "No such file" },
    { event: "sftp.open", path: "/tmp/day.txt", flags: "WRITE,CREATE,TRUNCATE" },
    { event: "sftp.close", path: "/tmp/day.txt", bytes_read: 0, bytes_written: 15 },
    { event: "sftp.open", path: "/tmp/day.txt", flags: "READ" },
    { event: "sftp.close", path: "/tmp/day.txt", bytes_read: 15, bytes_written: 0 },
    { event: "session.end", kind: "subsystem", exit_code: 0, sftp_dropped: undefined },
    closedBy("demo"),
  ]],
  ["refused forward", [
    ...loggedIn("closed"),
    ...started("closed", { kind: "exec", command: "cat >/dev/null" }),
    {
      event: "forward.refused",
      user: "closed",
      kind: "local",
      host: "127.0.0.1",
      port: 8080,
      prohibited: true,
    },
    { event: "session.end", user: "closed", exit_code: 0 },
    closedBy("closed"),
  ]],
  ["killed client", [
    ...loggedIn("demo"),
    ...started("demo", { kind: "exec", command: "sleep 60" }),
    // Ended by the client leaving: no status from the process.
    { event: "session.end", kind: "exec", exit_code: 255 },
    closedBy("demo"),
  ]],
  ["sftp past the cap", [
    ...loggedIn("demo"),
    ...started("demo", { kind: "subsystem", subsystem: "sftp" }),
    ...Array.from({ length: SFTP_CAP }, (_, i) => ({ event: "sftp.mkdir", path: `/tmp/d${i}` })),
    { event: "sftp.capped", limit: SFTP_CAP },
    { event: "session.end", kind: "subsystem", exit_code: 0, sftp_dropped: 20 - SFTP_CAP },
    closedBy("demo"),
  ]],
];

/**
 * The ids of one connection's lines agree: one connection and client
 * address throughout, the user from the accepted login on, one session
 * whose container is the one created for it.
 */
function assertConsistent(name: string, lines: AuditLine[]): void {
  const [open] = lines;
  assert.equal(open?.event, "connection.open", name);
  assert.match(String(open.connection), /^[0-9a-f]{12}$/, name);
  assert.match(String(open.remote), /^127\.0\.0\.1:\d+$/, name);
  for (const line of lines) assert.equal(line.remote, open.remote, `${name}: ${line.event}`);
  const scoped = lines.filter((l) => "session" in l);
  if (scoped.length === 0) return;
  assert.equal(new Set(scoped.map((l) => l.session)).size, 1, `${name}: one session`);
  assert.match(String(scoped[0]!.session), /^[0-9a-f]+$/, name);
  const create = lines.find((l) => l.event === "container.create");
  const start = lines.find((l) => l.event === "session.start");
  assert.match(String(create?.container), /^[0-9a-f]{12}$/, name);
  assert.equal(start?.container, create?.container, `${name}: the session's container`);
  const end = lines.find((l) => l.event === "session.end");
  assert.equal(typeof end?.duration_ms, "number", name);
}

/** The pid of `parent`'s one child process (sshpass runs ssh as its child). */
async function childPid(parent: number): Promise<number> {
  // `ps`, not /proc: Deno reads another process's /proc entries only with --allow-all.
  const text = await pollUntil(
    async () => (await run(["ps", "-o", "pid=", "--ppid", String(parent)])).stdout,
    (t) => t.trim() !== "",
    10_000,
  );
  return Number(text.trim().split(/\s+/)[0]);
}

Deno.test("end to end: the audit log of a scripted day, event by event", async (t) => {
  await requireEngine();
  const dir = await Deno.makeTempDir({ prefix: "capsule-audit-day-" });
  const auditPath = `${dir}/audit.log`;
  const { capsule, login } = await startDemoCapsule({
    config: {
      audit: { file: auditPath, sftpEventsPerSession: SFTP_CAP },
      users: {
        closed: {
          passwordHash: await demoPasswordHash(),
          container: { forwarding: { local: false } },
        },
      },
    },
  });
  const closedLogin: Login = { ...login, user: "closed" };
  /** Each client's connection is closed in the audit before the next one starts. */
  let closes = 0;
  const nextClosed = () =>
    pollUntil(
      () => readAudit(auditPath),
      (lines) => lines.filter((l) => l.event === "connection.close").length >= closes + 1,
      30_000,
    ).then(() => void closes++);

  try {
    await t.step("a failed password login", async () => {
      const result = await ssh({ ...login, password: WRONG_PASSWORD }, "true");
      assert.equal(result.code, 255, result.stderr);
      await nextClosed();
    });

    await t.step("a shell on a PTY, left with exit", async () => {
      const result = await ssh(login, undefined, { args: ["-tt"], stdin: "exit\n" });
      assert.equal(result.code, 0, result.stderr);
      await nextClosed();
    });

    await t.step("an exec that exits 3", async () => {
      const result = await ssh(login, "exit 3");
      assert.equal(result.code, 3, result.stderr);
      await nextClosed();
    });

    await t.step("an SFTP put and get", async () => {
      await Deno.writeTextFile(`${dir}/up.txt`, "a day of audit\n");
      const result = await sftpBatch(login, [
        "put up.txt /tmp/day.txt",
        "get /tmp/day.txt down.txt",
      ], { dir, cwd: dir });
      assert.equal(result.code, 0, describe(result));
      assert.equal(await Deno.readTextFile(`${dir}/down.txt`), "a day of audit\n");
      await nextClosed();
    });

    await t.step("a forward refused for a user without forwarding", async () => {
      const local = freePort();
      // The session ends when stdin closes; the forward is tried while it runs.
      const client = backgroundSsh(closedLogin, ["-L", `${local}:127.0.0.1:8080`], {
        command: "cat >/dev/null",
        stdin: "",
        verbose: true,
      });
      try {
        // OpenSSH listens on -L before it asks for the session.
        await auditUntil(auditPath, (l) => l.event === "session.start" && l.user === "closed");
        const conn = await Deno.connect({ hostname: "127.0.0.1", port: local });
        await new Response(conn.readable).arrayBuffer().catch(() => undefined);
        await auditUntil(auditPath, (l) => l.event === "forward.refused");
        assert.equal(await client.finish(), 0, client.stderr);
        assert.match(client.stderr, /administratively prohibited/);
      } finally {
        await client.stop();
      }
      await nextClosed();
    });

    await t.step("a client killed (SIGKILL) mid-session", async () => {
      const [program, ...args] = sshCommand(login, "sleep 60");
      const child = new Deno.Command(program!, {
        args,
        stdin: "null",
        stdout: "null",
        stderr: "null",
      }).spawn();
      try {
        const sshPid = await childPid(child.pid);
        await auditUntil(auditPath, (l) => l.event === "session.start" && l.command === "sleep 60");
        Deno.kill(sshPid, "SIGKILL");
      } finally {
        await child.status;
      }
      await nextClosed();
    });

    await t.step("an SFTP session past the cap: 8 events, sftp.capped, 12 counted", async () => {
      const dirs = Array.from({ length: 10 }, (_, i) => `/tmp/d${i}`);
      const result = await sftpBatch(login, [
        ...dirs.map((d) => `mkdir ${d}`),
        ...dirs.map((d) => `rmdir ${d}`),
      ], { dir, cwd: dir });
      assert.equal(result.code, 0, describe(result));
      await nextClosed();
    });

    await t.step("every container is removed", async () => {
      await assertNoContainersLeft(30_000, capsule.instance);
      await pollUntil(
        () => readAudit(auditPath),
        (lines) => count(lines, "container.remove") === count(lines, "container.create"),
      );
    });

    await t.step("the audit file, event by event", async () => {
      const text = await Deno.readTextFile(auditPath);
      assert.ok(!text.includes(DEMO_PASSWORD), "no password");
      assert.ok(!text.includes(WRONG_PASSWORD), "not even a wrong one");
      const lines = await readAudit(auditPath);
      lines.forEach((line, i) => {
        assert.equal(line.v, 1, JSON.stringify(line));
        assert.equal(line.seq, i + 1, "seq rises by one a line: none lost, none reordered");
        assert.match(String(line.ts), /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/);
      });
      // Connections ran one after the other, but the removal of a container
      // races the next connection: those lines (of no connection) are checked apart.
      const byConnection = new Map<string, AuditLine[]>();
      for (const line of lines) {
        if (line.connection === null) continue;
        byConnection.set(line.connection, [...(byConnection.get(line.connection) ?? []), line]);
      }
      const connections = [...byConnection.values()];
      assert.equal(connections.length, DAY.length, `one connection per client:\n${text}`);
      connections.forEach((actual, i) => {
        const [name, expected] = DAY[i]!;
        assert.deepEqual(project(actual, expected), expected, `${name}:\n${text}`);
        assertConsistent(name, actual);
      });
      const sessions = connections.flatMap((c) => c.filter((l) => l.event === "session.start"));
      assert.equal(new Set(sessions.map((l) => l.session)).size, sessions.length);

      const created = lines.filter((l) => l.event === "container.create");
      const removed = lines.filter((l) => l.connection === null);
      assert.ok(removed.every((l) => l.event === "container.remove"), "only removals lack one");
      assert.deepEqual(
        removed.map((l) => l.container).sort(),
        created.map((l) => l.container).sort(),
        "each container created is removed once",
      );
      for (const remove of removed) {
        const create = created.find((l) => l.container === remove.container)!;
        assert.ok(remove.seq > create.seq);
        assert.equal(remove.placement, "session");
      }
    });
  } catch (error) {
    console.error(`capsule log (last 30 lines):\n${logTail(capsule, 30)}`);
    throw error;
  } finally {
    assert.equal(await capsule.stop("SIGTERM"), 0);
    await assertNoContainersLeft(15_000, capsule.instance);
    await Deno.remove(dir, { recursive: true });
  }
});
