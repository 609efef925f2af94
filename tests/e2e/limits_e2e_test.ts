/**
 * End to end, as an attacker with an account would: what one user can take
 * from the host. Per-user session and connection caps, the server's container
 * cap, the disk limit, a fork bomb, running out of file descriptors and a
 * memory hog. After each: others are still served and nothing is left.
 */
import assert from "node:assert/strict";
import { demoPasswordHash, startDemoCapsule } from "../helpers/demo_capsule.ts";
import { assertNoContainersLeft, capsuleContainers, requireEngine } from "../helpers/docker.ts";
import { type Login, ssh, sshCommand } from "../helpers/ssh_client.ts";
import { pollUntil } from "../helpers/poll.ts";

/** OpenSSH clients left running (a session or a bare connection), killed at the end of a step. */
class Holders {
  readonly #children: Deno.ChildProcess[] = [];

  /** Starts `ssh` with `command` (or `-N` for a connection with no session) and leaves it running. */
  hold(login: Login, command?: string): void {
    const [program, ...args] = sshCommand(login, command, command === undefined ? ["-N"] : []);
    this.#children.push(
      new Deno.Command(program!, { args, stdin: "null", stdout: "null", stderr: "null" }).spawn(),
    );
  }

  async release(): Promise<void> {
    for (const child of this.#children.splice(0)) {
      try {
        child.kill("SIGTERM");
      } catch {
        // already gone
      }
      await child.status;
    }
  }
}

Deno.test("end to end: one user cannot exhaust the host", async (t) => {
  await requireEngine();
  const passwordHash = await demoPasswordHash();
  const { capsule, login: demo } = await startDemoCapsule({
    config: {
      server: { maxStartupsPerSource: 30 },
      limits: { containers: 5 },
      users: {
        capped: { passwordHash, limits: { sessionsPerUser: 3, connectionsPerUser: 4 } },
        disk: { passwordHash, container: { disk: "64m" } },
        small: { passwordHash, container: { memory: "16m" } },
      },
    },
  });
  const login = (user: string): Login => ({ ...demo, user });
  const containersOf = (user: string) =>
    capsuleContainers(capsule.instance, { "io.capsule.user": user });
  const holders = new Holders();
  const stillServes = async () => {
    const ok = await ssh(demo, "echo ok");
    assert.equal(ok.stdout, "ok\n", ok.stderr);
  };

  try {
    await t.step("sessions over a user's cap are refused across connections", async () => {
      for (let i = 0; i < 3; i++) holders.hold(login("capped"), "sleep 60");
      await pollUntil(() => containersOf("capped"), (ids) => ids.length === 3);
      const refused = await ssh(login("capped"), "echo should-not-run");
      assert.equal(refused.stdout, "");
      assert.equal(refused.stderr, 'capsule: Too many sessions for user "capped" (3)\n');
      assert.equal(refused.code, 255);
      assert.equal((await containersOf("capped")).length, 3, "nothing was created");
      // The log names the cap (read from capsule's output, which may trail the client).
      await capsule.waitForLog(
        (r) => r.event === "session.error" && r.code === "SESSION_CAP_REACHED",
        10_000,
      );
      await stillServes();
      await holders.release();
      await pollUntil(() => containersOf("capped"), (ids) => ids.length === 0);
      const after = await ssh(login("capped"), "echo again");
      assert.equal(after.stdout, "again\n", "slots come back when sessions end");
    });

    await t.step("connections over a user's cap are refused with one line", async () => {
      const accepted = () =>
        capsule.logs().filter((r) => r.event === "auth.accepted" && r.user === "capped").length;
      const before = accepted();
      for (let i = 0; i < 4; i++) holders.hold(login("capped"));
      await pollUntil(() => Promise.resolve(accepted()), (n) => n >= before + 4);
      const refused = await ssh(login("capped"), "echo should-not-run");
      assert.equal(refused.stdout, "");
      assert.equal(refused.stderr, 'capsule: Too many connections for user "capped" (4)\n');
      assert.equal(refused.code, 255);
      await stillServes();
      await holders.release();
      const after = await pollUntil(
        () => ssh(login("capped"), "echo again"),
        (r) => r.stdout === "again\n",
      );
      assert.equal(after.code, 0);
    });

    await t.step("the server's container cap holds for every user together", async () => {
      for (let i = 0; i < 5; i++) holders.hold(demo, "sleep 60");
      await pollUntil(() => capsuleContainers(capsule.instance), (ids) => ids.length === 5);
      const refused = await ssh(login("disk"), "echo should-not-run");
      assert.equal(
        refused.stderr,
        "capsule: Cannot start a container: the server is at its limit of 5 containers\n",
      );
      assert.notEqual(refused.code, 0);
      assert.equal((await capsuleContainers(capsule.instance)).length, 5);
      await holders.release();
      await pollUntil(() => capsuleContainers(capsule.instance), (ids) => ids.length === 0);
    });

    await t.step(
      "filling the disk: one file stops at the limit, many end the session",
      async () => {
        const fill = await ssh(
          login("disk"),
          "dd if=/dev/zero of=/tmp/big bs=1M count=3000 2>/dev/null; " +
            'echo "big: $(( $(wc -c </tmp/big) / 1048576 )) MiB"; rm /tmp/big; ' +
            "i=0; while [ $i -lt 100 ]; do dd if=/dev/zero of=/tmp/f$i bs=1M count=32 2>/dev/null; " +
            "i=$((i+1)); done; echo finished",
        );
        assert.match(fill.stdout, /^big: 64 MiB\n/, "one file cannot outgrow the limit (fsize)");
        assert.equal(fill.code, 124, fill.stderr);
        assert.match(fill.stderr, /disk limit of 64 MiB/);
        assert.doesNotMatch(fill.stdout, /finished/);
        const event = capsule.logs().find((r) => r.event === "container.disk_exceeded");
        assert.ok(event, "the log says which limit");
        // Checked twice a second: what a session writes in that time is the margin.
        assert.ok(Number(event.used) < 1024 * 1024 * 1024, `used ${event.used}`);
        await stillServes();
        await pollUntil(() => containersOf("disk"), (ids) => ids.length === 0);
      },
    );

    await t.step("a fork bomb hits the process limit and the server keeps serving", async () => {
      const limit = await ssh(
        demo,
        "cat /sys/fs/cgroup/pids/pids.max 2>/dev/null || cat /sys/fs/cgroup/pids.max",
      );
      assert.equal(limit.stdout, "256\n", "the default pids limit is in force");
      const bomb = await ssh(demo, "bomb() { bomb | bomb & }; bomb; sleep 3; echo bombed");
      assert.match(bomb.stderr, /can't fork/, "the bomb ran into the limit");
      await stillServes();
    });

    await t.step("file descriptors run out in the process, at the nofile ulimit", async () => {
      const result = await ssh(
        demo,
        'ulimit -n; ulimit -Hn; i=10; while [ $i -lt 5000 ]; do (eval "exec $i</dev/null") 2>/dev/null || break; i=$((i+1)); done; echo "refused at $i"',
      );
      assert.equal(result.stdout, "1024\n4096\nrefused at 1024\n", result.stderr);
      assert.equal(result.code, 0);
      await stillServes();
    });

    await t.step("a memory hog is killed and told so", async () => {
      const hog = await ssh(login("small"), "head -c 200m /dev/zero | tail");
      assert.equal(hog.code, 137, hog.stderr);
      assert.match(hog.stderr, /out of memory/);
      await stillServes();
    });
  } finally {
    await holders.release();
    assert.equal(await capsule.stop(), 0);
  }
  await assertNoContainersLeft(20_000, capsule.instance);
});
