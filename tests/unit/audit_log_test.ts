import assert from "node:assert/strict";
import { join } from "node:path";
import { type AuditFile, AuditLog, openAuditFile } from "../../src/audit/mod.ts";
import { createLogger, type LogRecord, silentLogger } from "../../src/log/mod.ts";

/** An in-memory audit file; `fail` makes writes throw, `hold` makes them wait. */
class MemoryFile implements AuditFile {
  text = "";
  fail = false;
  hold: Promise<void> | undefined;
  closed = false;
  async write(data: Uint8Array): Promise<number> {
    if (this.hold) await this.hold;
    if (this.fail) throw new Error("No space left on device (os error 28)");
    this.text += new TextDecoder().decode(data);
    return data.length;
  }
  close(): void {
    this.closed = true;
  }
}

const lines = (text: string) => text.trim().split("\n").map((l) => JSON.parse(l));

Deno.test("AuditLog writes one versioned envelope per line, seq increasing, fields after", async () => {
  const file = new MemoryFile();
  const audit = new AuditLog({ logger: silentLogger(), open: () => Promise.resolve(file) });
  audit.record("connection.open", { connection: "c1", remote: "127.0.0.1:5000", client: "x" });
  audit.record("auth", { connection: "c1", user: "alice", method: "password", result: "accepted" });
  audit.record("session.end", { connection: "c1", user: "alice", session: "s1", exit_code: 0 });
  audit.record("connection.close", { connection: "c1", reason: "client", duration_ms: 5 });
  await audit.close();
  const [open, auth, end, close] = lines(file.text);
  assert.equal(open.v, 1);
  assert.match(open.ts, /^\d{4}-\d\d-\d\dT/);
  assert.deepEqual(Object.keys(open).slice(0, 7), [
    "v",
    "ts",
    "event",
    "seq",
    "connection",
    "user",
    "remote",
  ]);
  assert.deepEqual([open.seq, auth.seq, end.seq, close.seq], [1, 2, 3, 4]);
  assert.equal(end.remote, "127.0.0.1:5000", "the remote of the connection is carried");
  assert.equal(close.user, "alice", "the user who authenticated is carried");
  assert.equal(close.remote, "127.0.0.1:5000");
  assert.equal(file.closed, true);
});

Deno.test("AuditLog drops past its bound without waiting, warns once, and counts", async () => {
  const file = new MemoryFile();
  const release = Promise.withResolvers<void>();
  file.hold = release.promise;
  const logs: LogRecord[] = [];
  const logger = createLogger({ sink: (r) => logs.push(r) });
  const audit = new AuditLog({ logger, open: () => Promise.resolve(file), maxQueue: 3 });
  // The first line is taken by the writer, which then waits on the slow disk.
  audit.record("auth", { connection: "c", user: "u", method: "none", result: "rejected" });
  await new Promise((r) => setTimeout(r, 0));
  for (let i = 0; i < 10; i++) {
    audit.record("auth", { connection: "c", user: "u", method: "none", result: "rejected" });
  }
  assert.equal(audit.dropped, 7);
  assert.deepEqual(logs.map((l) => l.event), ["audit.dropping"]);
  release.resolve();
  await audit.close();
  assert.equal(lines(file.text).length, 4);
});

Deno.test("AuditLog survives a full disk and resumes on a line of its own", async () => {
  const file = new MemoryFile();
  const logs: LogRecord[] = [];
  const audit = new AuditLog({
    logger: createLogger({ sink: (r) => logs.push(r) }),
    open: () => Promise.resolve(file),
  });
  file.fail = true;
  audit.record("container.remove", { container: "a" });
  audit.record("container.remove", { container: "b" });
  await new Promise((r) => setTimeout(r, 10));
  assert.equal(audit.dropped, 2);
  file.fail = false;
  audit.record("container.remove", { container: "c" });
  await audit.close();
  assert.deepEqual(lines(file.text).map((l) => l.container), ["c"]);
  assert.deepEqual(logs.map((l) => l.event), ["audit.dropping", "audit.resumed"]);
});

Deno.test("AuditLog.reopen() writes later lines to the file now at the path (log rotation)", async () => {
  const dir = await Deno.makeTempDir();
  try {
    const path = join(dir, "sub", "audit.log");
    const audit = new AuditLog({ logger: silentLogger(), open: () => openAuditFile(path) });
    audit.record("container.remove", { container: "before" });
    await new Promise((r) => setTimeout(r, 50));
    await Deno.rename(path, `${path}.1`);
    audit.reopen();
    audit.record("container.remove", { container: "after" });
    await audit.close();
    assert.equal(lines(await Deno.readTextFile(`${path}.1`))[0].container, "before");
    assert.equal(lines(await Deno.readTextFile(path))[0].container, "after");
    assert.equal((await Deno.stat(path)).mode! & 0o777, 0o600);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("openAuditFile() appends, and narrows an existing file to mode 0600", async () => {
  const dir = await Deno.makeTempDir();
  try {
    const path = join(dir, "audit.log");
    await Deno.writeTextFile(path, "old\n", { mode: 0o644 });
    await Deno.chmod(path, 0o644);
    const file = await openAuditFile(path);
    await file.write(new TextEncoder().encode("new\n"));
    file.close();
    assert.equal(await Deno.readTextFile(path), "old\nnew\n");
    assert.equal((await Deno.stat(path)).mode! & 0o777, 0o600);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
