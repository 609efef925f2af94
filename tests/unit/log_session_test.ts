import assert from "node:assert/strict";
import { createLogger, type LogRecord } from "../../src/log/mod.ts";
import { type ExitStatus, logSession, type SessionHandler } from "../../src/session/mod.ts";
import { type FakeContextOptions, fakeSessionContext } from "../helpers/fake_session_context.ts";

/** Runs `inner` behind logSession() with a recording logger; returns the status and the log. */
async function logged(
  inner: SessionHandler,
  options: FakeContextOptions = {},
): Promise<{ status: ExitStatus; logs: Omit<LogRecord, "ts">[] }> {
  const logs: LogRecord[] = [];
  const logger = createLogger({ level: "debug", sink: (record) => logs.push(record) });
  const status = await logSession()(inner)(fakeSessionContext({ ...options, logger }));
  return { status, logs: logs.map(({ ts: _ts, ...rest }) => rest) };
}

const exits = (status: ExitStatus, afterMs = 0): SessionHandler => () =>
  new Promise((resolve) => setTimeout(() => resolve(status), afterMs));

Deno.test("logSession() logs session.start with the kind, the TTY and the env names only", async () => {
  const { logs } = await logged(exits({ code: 0 }), {
    request: { kind: "shell" },
    pty: { term: "xterm", cols: 80, rows: 24 },
    env: { LANG: "C.UTF-8", LC_TOKEN: "hunter2" },
  });
  assert.deepEqual(logs[0], {
    level: "info",
    event: "session.start",
    kind: "shell",
    tty: true,
    env: ["LANG", "LC_TOKEN"],
  });
});

Deno.test("logSession() logs session.end with the exit code and the duration", async () => {
  const { status, logs } = await logged(exits({ code: 3 }, 30));
  assert.deepEqual(status, { code: 3 }, "the status passes through unchanged");
  assert.equal(logs.length, 2);
  const { duration_ms, ...end } = logs[1]!;
  assert.deepEqual(end, { level: "info", event: "session.end", exit_code: 3 });
  assert.ok(Number.isInteger(duration_ms), `duration_ms ${duration_ms} is whole milliseconds`);
  assert.ok((duration_ms as number) >= 25, `duration_ms ${duration_ms} covers the session`);
});

Deno.test("logSession() logs an end by signal as exit_signal", async () => {
  const { status, logs } = await logged(exits({ signal: "TERM" }));
  assert.deepEqual(status, { signal: "TERM" });
  assert.equal(logs[1]?.exit_signal, "TERM");
  assert.equal("exit_code" in logs[1]!, false);
});

Deno.test("logSession() logs no command, env value or output of the session", async () => {
  const secret = "hunter2-s3cret";
  const { logs } = await logged(
    async (ctx) => {
      await ctx.io.write("stdout", new TextEncoder().encode(secret));
      return { code: 0 };
    },
    {
      command: `mysql --password=${secret}`,
      env: { LC_PASSWORD: secret },
    },
  );
  assert.deepEqual(logs.map((r) => r.event), ["session.start", "session.end"]);
  assert.ok(!JSON.stringify(logs).includes(secret), JSON.stringify(logs));
});

Deno.test("logSession() lets an error through without logging an end", async () => {
  const logs: LogRecord[] = [];
  const ctx = fakeSessionContext({
    logger: createLogger({ level: "debug", sink: (record) => logs.push(record) }),
  });
  const failing: SessionHandler = () => Promise.reject(new Error("boom"));
  await assert.rejects(logSession()(failing)(ctx), /boom/);
  // recoverErrors, inside it in the chain, is what turns errors into an end.
  assert.deepEqual(logs.map((r) => r.event), ["session.start"]);
});
