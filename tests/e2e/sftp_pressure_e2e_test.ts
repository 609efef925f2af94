/**
 * End to end: SFTP clients that press on capsule's memory or vanish. A flood
 * of READ requests with the client's window closed, and an upload faster
 * than the container can write, each keep capsule's RSS within 64 MiB; a
 * client killed mid-transfer leaves no container (session mode) and no stray
 * sftp-server in a shared container.
 */
import assert from "node:assert/strict";
import { PYTHON } from "../helpers/adversary.ts";
import { DEMO_PASSWORD, demoPasswordHash, startDemoCapsule } from "../helpers/demo_capsule.ts";
import {
  assertNoContainersLeft,
  capsuleContainers,
  containerProcesses,
  requireEngine,
} from "../helpers/docker.ts";
import { rssGrowth } from "../helpers/rss.ts";
import { type Login, ssh } from "../helpers/ssh_client.ts";
import { pollUntil } from "../helpers/poll.ts";

const PRESSURE = new URL("./clients/sftp_pressure.py", import.meta.url).pathname;
const LIMIT = 64 * 1024 * 1024;
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** A pressure client, once it said it is in its steady state. */
async function pressure(
  login: Login,
  args: string[],
): Promise<{ child: Deno.ChildProcess; stop(): Promise<void> }> {
  const child = new Deno.Command(PYTHON, {
    args: [PRESSURE, String(login.port), login.user, DEMO_PASSWORD, ...args],
    stdin: "null",
    stdout: "piped",
    stderr: "piped",
  }).spawn();
  const reader = child.stdout.pipeThrough(new TextDecoderStream()).getReader();
  const first = await Promise.race([
    reader.read(),
    sleep(30_000).then(() => ({ done: true, value: undefined })),
  ]);
  if (first.done || !first.value?.includes("{")) {
    child.kill("SIGKILL");
    const stderr = await new Response(child.stderr).text();
    throw new Error(`sftp_pressure.py ${args[0]} never got going:\n${stderr}`);
  }
  void reader.cancel().catch(() => {});
  void child.stderr.cancel().catch(() => {});
  return {
    child,
    async stop() {
      try {
        child.kill("SIGKILL");
      } catch {
        // already gone
      }
      await child.status;
    },
  };
}

Deno.test("end to end: SFTP under pressure keeps capsule's memory bounded and leaves nothing", async (t) => {
  await requireEngine();
  const passwordHash = await demoPasswordHash();
  const { capsule, login: demo } = await startDemoCapsule({
    config: {
      users: { pers: { passwordHash, container: { mode: "persistent", gracePeriod: 2 } } },
    },
  });
  const pers: Login = { ...demo, user: "pers" };
  const persContainer = async () =>
    (await capsuleContainers(capsule.instance, { "io.capsule.owner": "user:pers" }))[0];

  try {
    await t.step("5,000 READs with the client's window closed", async () => {
      const client = await pressure(demo, ["flood-read", "30"]);
      try {
        const growth = await rssGrowth(capsule.pid, sleep(8_000));
        assert.ok(growth < LIMIT, `RSS grew by ${growth >> 20} MiB`);
      } finally {
        await client.stop();
      }
    });

    await t.step("an upload faster than the container can write", async () => {
      const reader = await ssh(
        pers,
        // About 10 MiB/s, far slower than a client on loopback sends.
        // A double fork with its own stdio, so it outlives this exec.
        "mkfifo /tmp/slow && (sh -c 'while :; do head -c 1048576 >/dev/null; sleep 0.1; " +
          "done </tmp/slow' </dev/null >/dev/null 2>&1 &) && echo started",
      );
      assert.equal(reader.stdout, "started\n", reader.stderr);
      const client = await pressure(pers, ["slow-upload", "30", "/tmp/slow"]);
      try {
        const growth = await rssGrowth(capsule.pid, sleep(8_000));
        assert.ok(growth < LIMIT, `RSS grew by ${growth >> 20} MiB`);
      } finally {
        await client.stop();
      }
    });

    await t.step("a client killed mid-transfer leaves no container in session mode", async () => {
      const client = await pressure(demo, ["endless-read", "60"]);
      const mine = await capsuleContainers(capsule.instance, { "io.capsule.user": "demo" });
      assert.ok(mine.length >= 1, "the SFTP session has its container");
      await client.stop();
      await pollUntil(
        () => capsuleContainers(capsule.instance, { "io.capsule.user": "demo" }),
        (ids) => ids.length === 0,
      );
    });

    await t.step("... and no sftp-server left in a shared container", async () => {
      const client = await pressure(pers, ["endless-read", "60"]);
      const id = await persContainer();
      assert.ok(id, "the persistent container exists");
      const during = await containerProcesses(id);
      assert.ok(during.some((p) => p.includes("sftp-server")), during.join("\n"));
      await client.stop();
      await pollUntil(
        () => containerProcesses(id),
        (processes) => !processes.some((p) => p.includes("sftp-server")),
      );
    });
  } finally {
    assert.equal(await capsule.stop(), 0);
  }
  await assertNoContainersLeft(20_000, capsule.instance);
});
