import assert from "node:assert/strict";
import {
  type AuditEventName,
  type AuditFields,
  auditPlacement,
  auditSession,
} from "../../src/audit/mod.ts";
import { CapsuleError } from "../../src/errors/mod.ts";
import type { SessionContext, SessionHandler } from "../../src/session/mod.ts";
import { fakeSessionContext } from "../helpers/fake_session_context.ts";

function recorder() {
  const events: { event: AuditEventName; fields: AuditFields }[] = [];
  return {
    events,
    record: (event: AuditEventName, fields: AuditFields) => events.push({ event, fields }),
  };
}

const bytes = (text: string) => new TextEncoder().encode(text);

Deno.test("auditSession() records session.end with the status, bytes in and out", async () => {
  const audit = recorder();
  const written: string[] = [];
  const ctx: SessionContext = {
    ...fakeSessionContext({
      id: "s1",
      write: (_stream, data) => {
        written.push(new TextDecoder().decode(data));
        return Promise.resolve();
      },
    }),
    io: {
      stdin: (async function* () {
        yield bytes("abc");
        yield bytes("de");
      })(),
      write: (_stream, data) => {
        written.push(new TextDecoder().decode(data));
        return Promise.resolve();
      },
    },
  };
  const inner: SessionHandler = async (c) => {
    for await (const _ of c.io.stdin) { /* read all */ }
    await c.io.write("stdout", bytes("hello"));
    await c.io.write("stderr", bytes("!"));
    return { code: 3 };
  };
  const status = await auditSession(audit, { sftp: true })(inner)(ctx);
  assert.deepEqual(status, { code: 3 });
  assert.deepEqual(written, ["hello", "!"], "stderr of a non-subsystem session reaches the client");
  const [end] = audit.events;
  assert.equal(end?.event, "session.end");
  const { duration_ms, ...fields } = end!.fields;
  assert.equal(typeof duration_ms, "number");
  assert.deepEqual(fields, {
    connection: "c1",
    user: "alice",
    session: "s1",
    kind: "exec",
    exit_code: 3,
    bytes_in: 5,
    bytes_out: 6,
  });
});

Deno.test("auditSession() diverts sftp-server's stderr into sftp events and asks it to log", async () => {
  const audit = recorder();
  const toClient: string[] = [];
  const ctx = fakeSessionContext({
    request: { kind: "subsystem", name: "sftp" },
    write: (stream, data) => {
      toClient.push(`${stream}:${new TextDecoder().decode(data)}`);
      return Promise.resolve();
    },
  });
  let seen: SessionContext["request"] | undefined;
  const inner: SessionHandler = async (c) => {
    seen = c.request;
    await c.io.write("stdout", bytes("SFTP"));
    await c.io.write("stderr", bytes('remove name "/tmp/x"\r\nmkdir na'));
    await c.io.write("stderr", bytes('me "/d" mode 0755\r\n'));
    return { code: 0 };
  };
  await auditSession(audit, { sftp: true })(inner)(ctx);
  assert.deepEqual(seen, { kind: "subsystem", name: "sftp", log: true });
  assert.deepEqual(toClient, ["stdout:SFTP"], "nothing of the log reaches the client");
  assert.deepEqual(audit.events.map((e) => [e.event, e.fields["path"]]), [
    ["sftp.remove", "/tmp/x"],
    ["sftp.mkdir", "/d"],
    ["session.end", undefined],
  ]);
});

Deno.test("auditSession() without sftp leaves the subsystem's stderr to the client", async () => {
  const audit = recorder();
  const toClient: string[] = [];
  const ctx = fakeSessionContext({
    request: { kind: "subsystem", name: "sftp" },
    write: (stream) => {
      toClient.push(stream);
      return Promise.resolve();
    },
  });
  let seen: SessionContext["request"] | undefined;
  await auditSession(audit, { sftp: false })(async (c) => {
    seen = c.request;
    await c.io.write("stderr", bytes("x\n"));
    return { code: 0 };
  })(ctx);
  assert.deepEqual(seen, { kind: "subsystem", name: "sftp" });
  assert.deepEqual(toClient, ["stderr"]);
});

Deno.test("auditSession() records a cap's refusal and the end, and rethrows", async () => {
  const audit = recorder();
  const refusal = new CapsuleError("SESSION_CAP_REACHED", "Too many sessions", { exitCode: 255 });
  await assert.rejects(
    auditSession(audit, { sftp: false })(() => Promise.reject(refusal))(fakeSessionContext()),
    refusal,
  );
  assert.deepEqual(audit.events.map((e) => e.event), ["session.refused", "session.end"]);
  assert.equal(audit.events[0]?.fields["reason"], "SESSION_CAP_REACHED");
  assert.equal(audit.events[1]?.fields["error"], "SESSION_CAP_REACHED");
  assert.equal(audit.events[1]?.fields["exit_code"], 255);
});

Deno.test("auditPlacement() records session.start with the command, container and placement", async () => {
  const audit = recorder();
  const placed = {
    process: { containerId: "0123456789abcdef" },
    expired: new AbortController().signal,
    end() {},
    release: () => Promise.resolve(),
  };
  const placement = auditPlacement(
    // deno-lint-ignore no-explicit-any -- only the container id of the process is read
    { launch: () => Promise.resolve(placed as any) },
    audit,
    (id) => (id === "0123456789abcdef" ? "pool" : undefined),
  );
  const ctx = fakeSessionContext({ id: "s9", command: "echo hi" });
  // deno-lint-ignore no-explicit-any -- the fake placement ignores the container settings
  await placement.launch(ctx, { mode: "session" } as any);
  const { setup_ms, ...fields } = audit.events[0]!.fields;
  assert.equal(typeof setup_ms, "number");
  assert.deepEqual(fields, {
    connection: "c1",
    user: "alice",
    session: "s9",
    kind: "exec",
    command: "echo hi",
    pty: false,
    container: "0123456789ab",
    mode: "pool",
  });
});

/** An sftp session whose server logs `removes` operations, audited with `cap`. */
async function sftpSession(removes: number, cap: number | undefined) {
  const audit = recorder();
  const ctx = fakeSessionContext({ id: "s7", request: { kind: "subsystem", name: "sftp" } });
  const log = Array.from({ length: removes }, (_, i) => `remove name "/tmp/${i}"\n`).join("");
  await auditSession(audit, {
    sftp: true,
    ...(cap === undefined ? {} : { sftpEventsPerSession: cap }),
  })(async (c) => {
    await c.io.write("stderr", bytes(log));
    return { code: 0 };
  })(ctx);
  return audit.events;
}

Deno.test("auditSession() caps sftp events per session: one sftp.capped, the rest counted", async () => {
  const events = await sftpSession(8, 3);
  assert.deepEqual(events.map((e) => [e.event, e.fields["path"]]), [
    ["sftp.remove", "/tmp/0"],
    ["sftp.remove", "/tmp/1"],
    ["sftp.remove", "/tmp/2"],
    ["sftp.capped", undefined],
    ["session.end", undefined],
  ]);
  assert.deepEqual(events[3]?.fields, { connection: "c1", user: "alice", session: "s7", limit: 3 });
  assert.equal(events[4]?.fields["sftp_dropped"], 5);
});

Deno.test("auditSession() under the sftp cap records everything and no sftp_dropped", async (t) => {
  for (const [removes, cap] of [[3, 3], [50, 0], [50, undefined]] as const) {
    await t.step(`${removes} operations, cap ${cap}`, async () => {
      const events = await sftpSession(removes, cap);
      assert.equal(events.filter((e) => e.event === "sftp.remove").length, removes);
      assert.ok(!events.some((e) => e.event === "sftp.capped"));
      assert.ok(!("sftp_dropped" in events.at(-1)!.fields));
    });
  }
});

Deno.test("auditSession() counts the sftp cap per session", async () => {
  const audit = recorder();
  const layer = auditSession(audit, { sftp: true, sftpEventsPerSession: 2 });
  for (const id of ["a", "b"]) {
    const ctx = fakeSessionContext({ id, request: { kind: "subsystem", name: "sftp" } });
    await layer(async (c) => {
      await c.io.write("stderr", bytes('remove name "/x"\nremove name "/y"\nremove name "/z"\n'));
      return { code: 0 };
    })(ctx);
  }
  assert.deepEqual(audit.events.map((e) => `${e.fields["session"]}:${e.event}`), [
    "a:sftp.remove",
    "a:sftp.remove",
    "a:sftp.capped",
    "a:session.end",
    "b:sftp.remove",
    "b:sftp.remove",
    "b:sftp.capped",
    "b:session.end",
  ]);
});
