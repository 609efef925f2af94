import assert from "node:assert/strict";
import { AsciicastWriter, type CastFile, recordSession } from "../../src/recording/mod.ts";
import { createLogger, type LogRecord } from "../../src/log/mod.ts";
import type { SessionHandler, WindowSize } from "../../src/session/mod.ts";
import { fakeSessionContext } from "../helpers/fake_session_context.ts";

class MemoryCast implements CastFile {
  text = "";
  fail = false;
  closed = false;
  write(data: Uint8Array): Promise<number> {
    if (this.fail) return Promise.reject(new Error("No space left on device (os error 28)"));
    this.text += new TextDecoder().decode(data);
    return Promise.resolve(data.length);
  }
  close(): void {
    this.closed = true;
  }
  lines(): unknown[] {
    return this.text.trim().split("\n").map((l) => JSON.parse(l));
  }
}

const bytes = (text: string) => new TextEncoder().encode(text);

Deno.test("AsciicastWriter writes a v2 header, then output and resizes with their times", async () => {
  const file = new MemoryCast();
  let now = 1000;
  const cast = new AsciicastWriter(file, {
    cols: 80,
    rows: 24,
    timestamp: 1700000000.7,
    term: "xterm",
  }, {
    now: () => now,
  });
  now = 1500;
  cast.data("o", bytes("hi\r\n"));
  now = 2250;
  cast.resize({ cols: 100, rows: 30 });
  await cast.close();
  assert.deepEqual(file.lines(), [
    { version: 2, width: 80, height: 24, timestamp: 1700000000, env: { TERM: "xterm" } },
    [0.5, "o", "hi\r\n"],
    [1.25, "r", "100x30"],
  ]);
  assert.equal(file.closed, true);
});

Deno.test("AsciicastWriter keeps a UTF-8 character split across chunks whole", async () => {
  const file = new MemoryCast();
  const cast = new AsciicastWriter(file, { cols: 80, rows: 24, timestamp: 0, term: "xterm" });
  const text = bytes("h€llo 🎉");
  // Cut inside the euro sign, then inside the emoji.
  cast.data("o", text.subarray(0, 2));
  cast.data("o", text.subarray(2, 9));
  cast.data("o", text.subarray(9));
  await cast.close();
  const output = file.lines().slice(1).map((e) => (e as [number, string, string])[2]).join("");
  assert.equal(output, "h€llo 🎉");
  assert.doesNotMatch(file.text, /\ufffd/, "no replacement character");
});

Deno.test("AsciicastWriter stops on a full disk and says so once; the caller carries on", async () => {
  const file = new MemoryCast();
  const stops: string[] = [];
  const cast = new AsciicastWriter(file, { cols: 80, rows: 24, timestamp: 0, term: "xterm" }, {
    onStop: (reason) => stops.push(reason),
  });
  await new Promise((r) => setTimeout(r, 0));
  file.fail = true;
  cast.data("o", bytes("a"));
  await new Promise((r) => setTimeout(r, 0));
  cast.data("o", bytes("b"));
  file.fail = false;
  cast.data("o", bytes("c"));
  await cast.close();
  assert.equal(cast.stopped, true);
  assert.deepEqual(stops, ["No space left on device (os error 28)"]);
  assert.equal(file.lines().length, 1, "only the header made it");
});

Deno.test("AsciicastWriter stops when the disk falls too far behind", () => {
  const stops: string[] = [];
  const slow: CastFile = { write: () => new Promise(() => {}), close() {} };
  const cast = new AsciicastWriter(slow, { cols: 80, rows: 24, timestamp: 0, term: "xterm" }, {
    maxPending: 1000,
    onStop: (reason) => stops.push(reason),
  });
  for (let i = 0; i < 100; i++) cast.data("o", bytes("0123456789"));
  assert.equal(cast.stopped, true);
  assert.deepEqual(stops, ["the disk is too slow"]);
});

Deno.test("recordSession() records output and resizes of a TTY session, input only when asked", async (t) => {
  for (const input of [false, true]) {
    await t.step(`input: ${input}`, async () => {
      const file = new MemoryCast();
      let resize: ((size: WindowSize) => void) | undefined;
      const ctx = {
        ...fakeSessionContext({
          pty: { term: "xterm-256color", cols: 90, rows: 20 },
          request: { kind: "shell" },
        }),
        io: {
          stdin: (async function* () {
            yield bytes("ls\r");
          })(),
          write: () => Promise.resolve(),
        },
        onResize: (listener: (size: WindowSize) => void) => {
          resize = listener;
        },
      };
      const inner: SessionHandler = async (c) => {
        for await (const _ of c.io.stdin) { /* typed */ }
        resize?.({ cols: 120, rows: 40 });
        await c.io.write("stdout", bytes("a.txt\r\n"));
        return { code: 0 };
      };
      await recordSession({ dir: "unused", input, open: () => Promise.resolve(file) })(inner)(ctx);
      await new Promise((r) => setTimeout(r, 10));
      const events = file.lines().slice(1).map((e) => (e as unknown[]).slice(1));
      assert.deepEqual(events, [
        ...(input ? [["i", "ls\r"]] : []),
        ["r", "120x40"],
        ["o", "a.txt\r\n"],
      ]);
      const header = file.lines()[0] as Record<string, unknown>;
      assert.equal(header.width, 90);
      assert.equal(header.height, 20);
    });
  }
});

Deno.test("recordSession() leaves sessions without a TTY, and subsystems, unrecorded", async () => {
  let opened = 0;
  const open = () => {
    opened++;
    return Promise.resolve(new MemoryCast());
  };
  const inner: SessionHandler = () => Promise.resolve({ code: 0 });
  const middleware = recordSession({ dir: "unused", input: false, open });
  await middleware(inner)(fakeSessionContext());
  await middleware(inner)(fakeSessionContext({
    request: { kind: "subsystem", name: "sftp" },
    pty: { term: "xterm", cols: 80, rows: 24 },
  }));
  assert.equal(opened, 0);
});

Deno.test("recordSession() runs the session when its file cannot be opened", async () => {
  const logs: LogRecord[] = [];
  const logger = createLogger({ sink: (r) => logs.push(r) });
  const status = await recordSession({
    dir: "unused",
    input: false,
    open: () => Promise.reject(new Error("Permission denied")),
  })(() => Promise.resolve({ code: 7 }))(
    fakeSessionContext({ logger, pty: { term: "xterm", cols: 80, rows: 24 } }),
  );
  assert.deepEqual(status, { code: 7 });
  assert.deepEqual(logs.map((l) => l.event), ["recording.failed"]);
});
