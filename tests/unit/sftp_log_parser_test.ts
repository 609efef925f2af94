import assert from "node:assert/strict";
import { parseSftpLine, SftpLogParser, type SftpOperation } from "../../src/audit/mod.ts";

Deno.test("parseSftpLine() reads OpenSSH sftp-server's INFO lines", async (t) => {
  const cases: [string, SftpOperation | undefined][] = [
    ['open "/tmp/b.txt" flags WRITE,CREATE,TRUNCATE mode 0644', {
      event: "sftp.open",
      fields: { path: "/tmp/b.txt", flags: "WRITE,CREATE,TRUNCATE", mode: "0644" },
    }],
    ['close "/tmp/b.txt" bytes read 0 written 6', {
      event: "sftp.close",
      fields: { path: "/tmp/b.txt", bytes_read: 0, bytes_written: 6 },
    }],
    ['remove name "/tmp/e.txt"', { event: "sftp.remove", fields: { path: "/tmp/e.txt" } }],
    ['posix-rename old "/tmp/b" new "/tmp/e"', {
      event: "sftp.rename",
      fields: { path: "/tmp/b", new_path: "/tmp/e" },
    }],
    ['mkdir name "/tmp/d" mode 0777', {
      event: "sftp.mkdir",
      fields: { path: "/tmp/d", mode: "0777" },
    }],
    ['rmdir name "/tmp/d"', { event: "sftp.rmdir", fields: { path: "/tmp/d" } }],
    ['set "/tmp/a" mode 0600', {
      event: "sftp.setstat",
      fields: { path: "/tmp/a", change: "mode 0600" },
    }],
    ["sent status No such file", { event: "sftp.error", fields: { status: "No such file" } }],
    ['open "/tmp/a "quoted" name" flags READ mode 0666', {
      event: "sftp.open",
      fields: { path: '/tmp/a "quoted" name', flags: "READ", mode: "0666" },
    }],
    ["session opened for local user root from [UNKNOWN]", undefined],
    ['closedir "/tmp"', undefined],
  ];
  for (const [line, expected] of cases) {
    await t.step(line, () => assert.deepEqual(parseSftpLine(line), expected));
  }
});

Deno.test("SftpLogParser joins lines split across chunks and strips CR", () => {
  const ops: SftpOperation[] = [];
  const parser = new SftpLogParser((op) => ops.push(op));
  const bytes = new TextEncoder().encode('remove name "/tmp/é"\r\nrmdir name "/x"');
  // Split inside the two bytes of "é".
  const cut = bytes.indexOf(0xc3) + 1;
  parser.push(bytes.subarray(0, cut));
  parser.push(bytes.subarray(cut));
  assert.equal(ops.length, 1);
  parser.end();
  assert.deepEqual(ops, [
    { event: "sftp.remove", fields: { path: "/tmp/é" } },
    { event: "sftp.rmdir", fields: { path: "/x" } },
  ]);
});
