import assert from "node:assert/strict";
import { defaultConfig } from "../../src/config/mod.ts";
import { CapsuleError } from "../../src/errors/mod.ts";
import { FreshContainers } from "../../src/lifecycle/mod.ts";
import { createLogger, type LogRecord } from "../../src/log/mod.ts";
import { sessionChain } from "../../src/server/mod.ts";
import type { SessionHandler } from "../../src/session/mod.ts";
import { FakeRuntime } from "../helpers/fake_runtime.ts";
import { fakeSessionContext } from "../helpers/fake_session_context.ts";

const enc = (text: string) => new TextEncoder().encode(text);

/** Runs one session through the chain; returns its status, its log and what the client got. */
async function runSession(runtime: FakeRuntime) {
  const logs: LogRecord[] = [];
  const written: { stream: string; text: string }[] = [];
  const handler: SessionHandler = sessionChain(new FreshContainers(runtime, "t", new Set()), {
    containerFor: () => defaultConfig().container,
  });
  const status = await handler(fakeSessionContext({
    id: "s1",
    logger: createLogger({ level: "debug", sink: (record) => logs.push(record) }),
    write: (stream, data) => {
      written.push({ stream, text: new TextDecoder().decode(data) });
      return Promise.resolve();
    },
  }));
  return { status, events: logs.map((r) => r.event), logs, written };
}

Deno.test("sessionChain() runs the session in its container, innermost, between start and end", async () => {
  const runtime = new FakeRuntime();
  runtime.script = {
    output: [{ stream: "stdout", data: enc("hi") }],
    exit: { code: 3, oomKilled: false },
  };
  const { status, events, logs, written } = await runSession(runtime);
  assert.deepEqual(status, { code: 3 });
  assert.deepEqual(written, [{ stream: "stdout", text: "hi" }]);
  assert.equal(runtime.callsOf("run").length, 1);
  assert.deepEqual(events, ["session.start", "container.start", "container.remove", "session.end"]);
  assert.equal(logs.at(-1)?.exit_code, 3);
});

Deno.test("sessionChain() logs the end of a failed session, with the status recoverErrors made of it", async () => {
  const runtime = new FakeRuntime();
  runtime.failRun = new CapsuleError(
    "IMAGE_NOT_FOUND",
    'Cannot start a container: image "nope" not found',
  );
  const { status, events, logs, written } = await runSession(runtime);
  assert.deepEqual(status, { code: 125 });
  assert.deepEqual(written, [
    { stream: "stderr", text: 'capsule: Cannot start a container: image "nope" not found\n' },
  ]);
  // recoverErrors inside logSession: the error is recovered before the end is logged.
  assert.deepEqual(events, ["session.start", "session.error", "session.end"]);
  assert.equal(logs[1]?.code, "IMAGE_NOT_FOUND");
  assert.equal(logs[2]?.exit_code, 125);
});

Deno.test("sessionChain() tells the user only an internal error, with the session id, for an unknown one", async () => {
  const runtime = new FakeRuntime();
  runtime.failRun = new Error("engine said /var/lib/docker/secret/path is broken");
  const { status, events, written } = await runSession(runtime);
  assert.deepEqual(status, { code: 255 });
  assert.deepEqual(written, [{ stream: "stderr", text: "capsule: Internal error (session s1)\n" }]);
  assert.deepEqual(events, ["session.start", "session.error", "session.end"]);
});
