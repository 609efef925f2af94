/**
 * End to end: the container modes — `connection`, `persistent` and the warm
 * pool — against the real server, engine and clients. Each must behave like
 * `session` mode (exit codes, stdin EOF, stderr, env, TTY size, resize,
 * Ctrl-C, signals), plus what the mode itself promises.
 */
import assert from "node:assert/strict";
import { demoPasswordHash, startDemoCapsule } from "../helpers/demo_capsule.ts";
import { assertNoContainersLeft, capsuleContainers, requireEngine } from "../helpers/docker.ts";
import { checkSessionBehaviour } from "../helpers/session_checks.ts";
import {
  collect,
  connectSsh2,
  type Login,
  openChannel,
  ssh,
  waitForOutput,
} from "../helpers/ssh_client.ts";
import { pollUntil } from "../helpers/poll.ts";

Deno.test("end to end: container modes", async (t) => {
  await requireEngine();
  const passwordHash = await demoPasswordHash();
  const { capsule, login: demo } = await startDemoCapsule({
    config: {
      server: { maxStartupsPerSource: 20 },
      users: {
        conn: { passwordHash, container: { mode: "connection" } },
        pers: { passwordHash, container: { mode: "persistent", gracePeriod: 4 } },
        brief: { passwordHash, container: { mode: "persistent", maxLifetime: 3 } },
        small: { passwordHash, container: { mode: "persistent", memory: "8m" } },
        nosh: { passwordHash, container: { mode: "persistent", shell: "/bin/zsh" } },
        pool: { passwordHash, container: { pool: { size: 2 } } },
      },
    },
  });
  const login = (user: string): Login => ({ ...demo, user });
  const containersOf = (labels: Record<string, string>) =>
    capsuleContainers(capsule.instance, labels);

  try {
    await t.step(
      "connection mode behaves like session mode",
      (t) => checkSessionBehaviour(t, login("conn")),
    );
    await t.step(
      "persistent mode behaves like session mode",
      (t) => checkSessionBehaviour(t, login("pers")),
    );
    await t.step(
      "the warm pool behaves like session mode",
      (t) => checkSessionBehaviour(t, login("pool")),
    );

    await t.step("connection mode: one container per connection, gone when it closes", async () => {
      const first = await connectSsh2(login("conn"));
      const second = await connectSsh2(login("conn"));
      try {
        const run = async (client: typeof first, command: string) =>
          await collect(await openChannel(client, { exec: command }));
        assert.equal((await run(first, "echo one > /tmp/mark")).code, 0);
        assert.equal((await run(first, "cat /tmp/mark")).stdout, "one\n");
        assert.equal(
          (await run(second, "cat /tmp/mark 2>/dev/null || echo absent")).stdout,
          "absent\n",
        );
        const mode = { "io.capsule.mode": "connection" };
        assert.equal((await containersOf(mode)).length, 2);
        first.end();
        await pollUntil(() => containersOf(mode), (ids) => ids.length === 1);
      } finally {
        first.end();
        second.end();
      }
      await pollUntil(
        () => containersOf({ "io.capsule.mode": "connection" }),
        (ids) => ids.length === 0,
      );
    });

    await t.step("persistent mode: files and processes outlive the connection", async () => {
      const user = { "io.capsule.user": "pers" };
      // Wait out the grace period of earlier steps: start from no container.
      await pollUntil(() => containersOf(user), (ids) => ids.length === 0);
      const started = await ssh(
        login("pers"),
        "echo kept > /tmp/kept; sleep 1000 >/dev/null 2>&1 & echo started",
      );
      assert.equal(started.stdout, "started\n");
      const back = await ssh(login("pers"), "cat /tmp/kept; ps | grep -c '[s]leep 1000'");
      assert.equal(back.stdout, "kept\n1\n");
      assert.equal((await containersOf(user)).length, 1);
      // Once nobody holds it for the grace period (4 s), it goes.
      await pollUntil(() => containersOf(user), (ids) => ids.length === 0);
    });

    await t.step("persistent mode: racing logins land in one container", async () => {
      const user = { "io.capsule.user": "pers" };
      await pollUntil(() => containersOf(user), (ids) => ids.length === 0);
      const racing = await Promise.all(
        Array.from({ length: 6 }, () => ssh(login("pers"), "echo x >> /tmp/race; sleep 1")),
      );
      assert.deepEqual(racing.map((r) => r.code), [0, 0, 0, 0, 0, 0]);
      assert.equal((await containersOf(user)).length, 1);
      const count = await ssh(login("pers"), "wc -l < /tmp/race");
      assert.equal(count.stdout.trim(), "6");
    });

    await t.step("persistent mode: a vanished client's process is hung up", async () => {
      const client = await connectSsh2(login("pers"));
      const channel = await openChannel(client, { exec: "echo up; sleep 2000" });
      await waitForOutput(channel, (s) => s.includes("up"));
      client.destroy();
      await pollUntil(
        async () => (await ssh(login("pers"), "ps | grep -c '[s]leep 2000'")).stdout.trim(),
        (count) => count === "0",
      );
    });

    await t.step(
      "the maximum lifetime ends sessions with a reason and removes the container",
      async () => {
        const result = await ssh(login("brief"), "sleep 30");
        assert.equal(result.code, 124);
        assert.match(
          result.stderr,
          /capsule: session ended: the container reached its maximum lifetime of 3 s/,
        );
        await pollUntil(
          () => containersOf({ "io.capsule.user": "brief" }),
          (ids) => ids.length === 0,
        );
      },
    );

    await t.step(
      "persistent mode: out of memory is reported, and the next login starts afresh",
      async () => {
        const result = await ssh(login("small"), "dd if=/dev/zero of=/dev/null bs=64M count=1");
        assert.equal(result.code, 137);
        assert.match(result.stderr, /capsule: Session ended: out of memory/);
        // The OOM kill took the container; the next session gets a new one.
        const next = await ssh(login("small"), "echo fine");
        assert.equal(next.stdout, "fine\n");
        assert.equal(next.code, 0);
      },
    );

    await t.step("the warm pool: a container serves one session and is replaced", async () => {
      const pool = { "io.capsule.mode": "pool" };
      const before = await pollUntil(() => containersOf(pool), (ids) => ids.length === 2);
      const wrote = await ssh(login("pool"), "echo secret > /tmp/s; echo done");
      assert.equal(wrote.stdout, "done\n");
      const read = await ssh(login("pool"), "cat /tmp/s 2>/dev/null || echo absent");
      assert.equal(read.stdout, "absent\n", "a pooled container is never used twice");
      // Both used containers are removed, and the pool refills to its size.
      await pollUntil(
        () => containersOf(pool),
        (ids) => ids.length === 2 && ids.every((id) => !before.includes(id)),
      );
      const lines = capsule.logs().filter((r) =>
        r.event === "container.start" && r.mode === "pool" && r.user === "pool"
      );
      assert.ok(lines.length >= 2, "the log names the user a pooled container served");
    });

    await t.step("a missing shell in a shared container says so", async () => {
      const result = await ssh(login("nosh"), "true");
      assert.equal(result.code, 127);
      assert.match(result.stderr, /capsule: Cannot start session: shell "\/bin\/zsh" not found/);
      await pollUntil(
        () => containersOf({ "io.capsule.user": "nosh" }),
        (ids) => ids.length === 0,
      );
    });

    await t.step("shutdown refuses new sessions and removes every container", async () => {
      const kept = await ssh(login("pers"), "true");
      assert.equal(kept.code, 0);
      assert.equal((await containersOf({ "io.capsule.user": "pers" })).length, 1);
      // A connection that is open when the server starts shutting down.
      const client = await connectSsh2(login("conn"));
      const running = collect(await openChannel(client, { exec: "sleep 2; echo done" }));
      try {
        capsule.signal("SIGTERM");
        await capsule.waitForLog((r) => r.event === "server.draining");
        await assert.rejects(
          openChannel(client, { exec: "true" }),
          "no new session while draining",
        );
        assert.equal((await running).stdout, "done\n", "the running session finishes");
      } finally {
        client.end();
      }
      assert.equal(await capsule.exited, 0);
      await assertNoContainersLeft(15_000, capsule.instance);
    });
  } finally {
    await capsule.stop().catch(() => {});
  }
});
