/**
 * A log reader that stops reading (a busy journald, a full pipe) must not
 * stop capsule: log lines wait in a bounded queue, written asynchronously.
 * With synchronous writes to standard error, the whole server froze once
 * the pipe's 64 KiB were full (about 40 logins at the debug level here).
 */
import assert from "node:assert/strict";
import { startDemoCapsule } from "../helpers/demo_capsule.ts";
import { type Login, sshCommand } from "../helpers/ssh_client.ts";

const LOGINS = 80;
const AT_ONCE = 8;

/** `ssh login true`, ended after 30 s: a frozen server must fail the test, not hang it. */
async function loginOnce(login: Login): Promise<number> {
  const [program, ...args] = sshCommand(login, "true", ["-o", "ConnectTimeout=10"]);
  const { code } = await new Deno.Command("timeout", {
    args: ["-s", "KILL", "30", program!, ...args],
    stdin: "null",
    stdout: "null",
    stderr: "null",
  }).output();
  return code;
}

Deno.test("end to end: logins go on while nobody reads capsule's log, and no line is lost", async () => {
  const release = Promise.withResolvers<void>();
  const { capsule, login } = await startDemoCapsule({ holdLog: release.promise });
  let stopped = false;
  try {
    const codes: number[] = [];
    for (let i = 0; i < LOGINS && !codes.some((code) => code !== 0); i += AT_ONCE) {
      const batch = await Promise.all(Array.from({ length: AT_ONCE }, () => loginOnce(login)));
      codes.push(...batch);
    }
    assert.deepEqual(
      codes,
      new Array(LOGINS).fill(0),
      "every login ran while the log was not read",
    );
    const heldBack = capsule.logs().filter((r) => r.event === "session.end").length;
    assert.equal(heldBack, 0, "the log reader really read nothing meanwhile");

    release.resolve();
    const ends = () => capsule.logs().filter((r) => r.event === "session.end").length;
    const deadline = Date.now() + 20_000;
    while (ends() < LOGINS && Date.now() < deadline) await new Promise((r) => setTimeout(r, 100));
    assert.equal(ends(), LOGINS, "every session's end reached the log once it was read");
    assert.equal(capsule.logs().filter((r) => r.event === "log.dropped").length, 0);
    stopped = true;
    assert.equal(await capsule.stop(), 0);
    const last = capsule.logs().at(-1);
    assert.equal(
      last?.event,
      "server.stopped",
      "the last line is written before the process exits",
    );
  } finally {
    release.resolve();
    if (!stopped) await capsule.stop("SIGKILL");
  }
});
