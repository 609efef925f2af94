/**
 * End to end: the container lifecycle around sessions — orphans after a
 * crash, graceful shutdown, reload, timeouts and engine faults — against the
 * real server process, the real engine and the real OpenSSH client.
 */
import assert from "node:assert/strict";
import { stringify } from "yaml";
import { type CapsuleProcess, deepMerge } from "../helpers/capsule_process.ts";
import { DEMO_PASSWORD, demoPasswordHash, startDemoCapsule } from "../helpers/demo_capsule.ts";
import { assertNoContainersLeft, capsuleContainers, requireEngine } from "../helpers/docker.ts";
import { eventually } from "../helpers/adversary.ts";
import { engineProxy } from "../helpers/engine_proxy.ts";
import { type Login, ssh, sshCommand } from "../helpers/ssh_client.ts";

/** Starts `ssh` in the background and returns its eventual result. */
function background(login: Login, command: string) {
  const [program, ...args] = sshCommand(login, command);
  const child = new Deno.Command(program!, {
    args,
    stdin: "null",
    stdout: "piped",
    stderr: "piped",
  })
    .spawn();
  return child.output().then((out) => ({
    code: out.code,
    stdout: new TextDecoder().decode(out.stdout),
    stderr: new TextDecoder().decode(out.stderr),
  }));
}

async function waitForContainers(
  capsule: CapsuleProcess,
  count: number,
  timeoutMs = 20_000,
): Promise<string[]> {
  const deadline = Date.now() + timeoutMs;
  let found = await capsuleContainers(capsule.instance);
  while (found.length < count && Date.now() < deadline) {
    await new Promise((r) => setTimeout(r, 100));
    found = await capsuleContainers(capsule.instance);
  }
  assert.equal(found.length, count, `expected ${count} capsule container(s)`);
  return found;
}

Deno.test("end to end: container lifecycle", async (t) => {
  await requireEngine();
  const servers: CapsuleProcess[] = [];
  const start = async (config: Record<string, unknown> = {}) => {
    const { capsule } = await startDemoCapsule({ config });
    servers.push(capsule);
    return capsule;
  };
  const login = (capsule: CapsuleProcess, user = "demo"): Login => ({
    port: capsule.port,
    user,
    password: DEMO_PASSWORD,
  });

  try {
    await t.step("after kill -9 of the server, a restart sweeps the orphan", async () => {
      const instance = `restart-${crypto.randomUUID().slice(0, 8)}`;
      const first = await start({ server: { instance } });
      const session = background(login(first), "sleep 300");
      await waitForContainers(first, 1);
      assert.equal(await first.stop("SIGKILL"), 137);
      await session;
      assert.equal((await capsuleContainers(instance)).length, 1, "the orphan is still there");
      const second = await start({ server: { instance } });
      await second.waitForLog((r) => r.event === "sweep.removed");
      await assertNoContainersLeft(15_000, instance);
      assert.equal(await second.stop(), 0);
    });

    await t.step("another instance's containers are never swept", async () => {
      const mine = await start({ server: { drainTimeout: 0 } });
      const session = background(login(mine), "sleep 300");
      await waitForContainers(mine, 1);
      const other = await start();
      await other.waitForLog((r) => r.event === "server.listening");
      assert.equal((await capsuleContainers(mine.instance)).length, 1, "the other left it alone");
      assert.equal(await other.stop(), 0);
      assert.equal(await mine.stop(), 0);
      await session;
      await assertNoContainersLeft(15_000, mine.instance);
    });

    await t.step("SIGTERM tells users, lets a session finish, and exits 0", async () => {
      const capsule = await start({ server: { drainTimeout: 30 } });
      const session = background(login(capsule), "sleep 2; echo finished");
      await waitForContainers(capsule, 1);
      capsule.signal("SIGTERM");
      const result = await session;
      assert.equal(result.code, 0);
      assert.equal(result.stdout, "finished\n");
      assert.match(result.stderr, /capsule: the server is shutting down/);
      assert.equal(await capsule.exited, 0);
      await assertNoContainersLeft(15_000, capsule.instance);
      const refused = await ssh(login(capsule), "true");
      assert.equal(refused.code, 255, "no new logins once stopping");
    });

    await t.step("the drain time ends sessions that run on", async () => {
      const capsule = await start({ server: { drainTimeout: 1 } });
      const session = background(login(capsule), "sleep 300");
      await waitForContainers(capsule, 1);
      capsule.signal("SIGTERM");
      const result = await session;
      assert.notEqual(result.code, 0);
      assert.match(result.stderr, /shutting down; this session will be closed in 1 s/);
      assert.equal(await capsule.exited, 0);
      await assertNoContainersLeft(15_000, capsule.instance);
    });

    await t.step("a second signal stops at once, still cleanly", async () => {
      const capsule = await start({ server: { drainTimeout: 600 } });
      const session = background(login(capsule), "sleep 300");
      await waitForContainers(capsule, 1);
      capsule.signal("SIGTERM");
      await capsule.waitForLog((r) => r.event === "server.draining");
      capsule.signal("SIGINT");
      assert.equal(await capsule.exited, 0);
      await session;
      await assertNoContainersLeft(15_000, capsule.instance);
      assert.ok(capsule.logs().some((r) => r.event === "server.shutdown_now"));
    });

    await t.step("SIGHUP reloads users without dropping a live session", async () => {
      const capsule = await start();
      const passwordHash = await demoPasswordHash();
      const session = background(login(capsule), "sleep 3; echo still-here");
      await waitForContainers(capsule, 1);
      const config = deepMerge(
        {
          server: {
            listen: "127.0.0.1:0",
            stateDir: `${capsule.dir}/state`,
            penalties: { enabled: false },
          },
          log: { level: "debug", format: "json" },
        },
        { users: { demo: { passwordHash }, carol: { passwordHash } } },
      );
      const before = await ssh(login(capsule, "carol"), "true");
      assert.equal(before.code, 255, "carol is not a user yet");
      await Deno.writeTextFile(`${capsule.dir}/config.yaml`, stringify(config));
      capsule.signal("SIGHUP");
      const reloaded = await capsule.waitForLog((r) => r.event === "config.reloaded");
      assert.deepEqual(reloaded.users_added, ["carol"]);
      const after = await ssh(login(capsule, "carol"), "echo hi carol");
      assert.equal(after.stdout, "hi carol\n");
      assert.equal((await session).stdout, "still-here\n");
      assert.equal(await capsule.stop(), 0);
      await assertNoContainersLeft(15_000, capsule.instance);
    });

    await t.step(
      "a client stopped with SIGSTOP loses its container once keepalives fail",
      async () => {
        const capsule = await start({ server: { keepaliveInterval: 1, keepaliveCountMax: 2 } });
        const [program, ...args] = sshCommand(login(capsule), "sleep 300");
        const child = new Deno.Command(program!, {
          args,
          stdin: "null",
          stdout: "null",
          stderr: "null",
        }).spawn();
        await waitForContainers(capsule, 1);
        // sshpass is the child; the ssh under it must stop answering.
        await new Deno.Command("pkill", { args: ["-STOP", "-P", String(child.pid)] }).output();
        await capsule.waitForLog((r) => r.event === "connection.close" && r.user === "demo");
        await assertNoContainersLeft(15_000, capsule.instance);
        // Killing the frozen ssh ends sshpass too.
        await new Deno.Command("pkill", { args: ["-KILL", "-P", String(child.pid)] }).output();
        await child.status;
        assert.equal(await capsule.stop(), 0);
      },
    );

    await t.step("an idle session is warned, then ended with a reason", async () => {
      const capsule = await start({ container: { idleTimeout: 3 } });
      const result = await ssh(login(capsule), "sleep 60");
      assert.equal(result.code, 124);
      assert.match(result.stderr, /capsule: session idle: it ends in \d+ s/);
      assert.match(result.stderr, /capsule: session ended: idle for 3 s\n$/);
      assert.equal(await capsule.stop(), 0);
      await assertNoContainersLeft(15_000, capsule.instance);
    });

    await t.step("a session past its maximum time is ended with a reason", async () => {
      const capsule = await start({ container: { maxSessionTime: 2 } });
      const result = await ssh(login(capsule), "while true; do echo tick; sleep 0.5; done");
      assert.equal(result.code, 124);
      assert.match(result.stdout, /tick/);
      assert.match(result.stderr, /capsule: session ended: it reached its maximum time of 2 s\n$/);
      assert.equal(await capsule.stop(), 0);
      await assertNoContainersLeft(15_000, capsule.instance);
    });

    await t.step("a container killed for memory says so", async () => {
      const capsule = await start({ container: { memory: "8m" } });
      const result = await ssh(login(capsule), "dd if=/dev/zero of=/dev/null bs=64M count=1");
      assert.equal(result.code, 137);
      assert.match(result.stderr, /capsule: Session ended: out of memory/);
      assert.equal(await capsule.stop(), 0);
      await assertNoContainersLeft(15_000, capsule.instance);
    });

    await t.step(
      "engine unreachable at login, back without a restart, then lost mid-session",
      async () => {
        const socketDir = await Deno.makeTempDir();
        const proxy = engineProxy(socketDir);
        const capsule = await start({
          docker: proxy.docker,
          server: { sweepInterval: 1, metrics: { listen: "127.0.0.1:0" } },
        });
        const metrics = await capsule.waitForLog((r) => r.event === "metrics.listening");
        const readyz = async () => {
          const response = await fetch(`http://127.0.0.1:${metrics.port}/readyz`);
          await response.body?.cancel();
          return response.status;
        };
        /** Polls /readyz until it answers `wanted` (the engine is pinged every 5 s). */
        const readyzBecomes = async (wanted: number) => {
          const deadline = Date.now() + 30_000;
          let got = await readyz();
          while (got !== wanted && Date.now() < deadline) {
            await new Promise((r) => setTimeout(r, 250));
            got = await readyz();
          }
          assert.equal(got, wanted, "/readyz");
        };
        assert.equal(await readyz(), 503, "/readyz while no engine answers");
        const down = await ssh(login(capsule), "echo up");
        assert.equal(down.code, 125);
        assert.equal(
          down.stderr,
          "capsule: Cannot start a container: the container engine is not reachable\n",
        );
        await proxy.restore();
        const up = await ssh(login(capsule), "echo up");
        assert.equal(up.stdout, "up\n");
        await readyzBecomes(200);

        // The engine is lost mid-session: the session ends with a message.
        const starts = () => capsule.logs().filter((r) => r.event === "container.start").length;
        const startsBefore = starts();
        const session = background(login(capsule), "echo started; sleep 300");
        // Cut once the container runs: cut while it starts, it is a failed start, not a lost session.
        await eventually(
          () => starts() > startsBefore,
          () => "the session's container did not start",
        );
        await waitForContainers(capsule, 1);
        await proxy.cut();
        const result = await session;
        assert.equal(result.code, 125);
        assert.match(
          result.stderr,
          /capsule: Session ended: the connection to the container engine was lost/,
        );
        await readyzBecomes(503);
        await proxy.restore();
        // The container outlived its session: the next sweep takes it.
        await assertNoContainersLeft(15_000, capsule.instance);
        await readyzBecomes(200);
        await proxy.cut();
        assert.equal(await capsule.stop(), 0);
        await Deno.remove(socketDir, { recursive: true });
      },
    );
  } finally {
    for (const capsule of servers) await capsule.stop("SIGKILL").catch(() => {});
    for (const capsule of servers) await assertNoContainersLeft(15_000, capsule.instance);
  }
});
