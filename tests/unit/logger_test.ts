import assert from "node:assert/strict";
import {
  createLogger,
  escapeControl,
  formatJson,
  formatText,
  type LogRecord,
} from "../../src/log/mod.ts";

Deno.test("Logger writes one record per event with child fields and level filtering", () => {
  const records: LogRecord[] = [];
  const log = createLogger({ level: "info", sink: (r) => records.push(r) });
  const child = log.child({ connection: "c1" }).child({ session: "s1" });
  child.debug("hidden");
  child.info("session.start", { kind: "exec", skipped: undefined });
  log.warn("plain");
  assert.equal(records.length, 2);
  assert.equal(records[0]?.event, "session.start");
  assert.equal(records[0]?.connection, "c1");
  assert.equal(records[0]?.session, "s1");
  assert.equal("skipped" in records[0]!, false);
  assert.equal(records[1]?.connection, undefined);
});

Deno.test("log formats keep a peer-supplied value on one line", async (t) => {
  const record: LogRecord = {
    ts: "2026-01-01T00:00:00.000Z",
    level: "info",
    event: "auth.rejected",
    user: 'evil\n{"level":"error"}\x1b[31m',
  };
  await t.step("JSON", () => {
    const line = formatJson(record);
    assert.equal(line.split("\n").length, 2);
    assert.equal(JSON.parse(line).user, record.user);
  });
  await t.step("text", () => {
    const line = formatText(record);
    assert.equal(line.split("\n").length, 2);
    assert.equal(line.includes("\x1b"), false);
    assert.match(line, /user=.*\\x0a/);
  });
  await t.step("escapeControl", () => assert.equal(escapeControl("a\tb\x7f"), "a\\x09b\\x7f"));
});
