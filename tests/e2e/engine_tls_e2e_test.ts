/**
 * End to end: capsule on a remote engine over TLS — a second `dockerd` on
 * loopback with `--tlsverify` (`tests/helpers/tls_dockerd.ts`). Sessions run
 * there through `docker.host` and `docker.tls`, or through the Docker CLI's
 * variables; a wrong CA, an expired client certificate and an engine that is
 * not there each give one clear line at start-up.
 */
import assert from "node:assert/strict";
import { startDemoCapsule } from "../helpers/demo_capsule.ts";
import { requireEngine } from "../helpers/docker.ts";
import { ssh } from "../helpers/ssh_client.ts";
import { pollUntil } from "../helpers/poll.ts";
import { freePort, loadImages, mustRun, type TestEngine } from "../helpers/test_engine.ts";
import { startTlsDockerd } from "../helpers/tls_dockerd.ts";

/** The log lines of a capsule that exited before it listened (from startCapsule's error). */
async function startFailure(
  config: Record<string, unknown>,
): Promise<Record<string, unknown>[]> {
  const error = await startDemoCapsule({ config }).then(
    async ({ capsule }) => {
      await capsule.stop();
      return assert.fail("capsule started");
    },
    (error: Error) => error,
  );
  assert.match(error.message, /capsule exited before listening/);
  return error.message.split("\n").flatMap((line) => {
    try {
      return [JSON.parse(line)];
    } catch {
      return [];
    }
  });
}

/** The ids of capsule's containers on `engine`. */
async function containersOn(engine: TestEngine, instance: string): Promise<string[]> {
  const out = await mustRun([
    "docker",
    "ps",
    "-aq",
    "--filter",
    `label=io.capsule.instance=${instance}`,
  ], engine.env);
  return out.split("\n").filter((l) => l !== "");
}

Deno.test("end to end: a remote engine over TLS", async (t) => {
  await requireEngine();
  const engine = await startTlsDockerd();
  const certs = engine.certs!;
  const tls = engine.docker.tls!;
  try {
    await loadImages(engine, ["busybox:latest"]);

    await t.step("docker.host and docker.tls: a session runs on that engine", async () => {
      const { capsule, login } = await startDemoCapsule({
        config: { docker: engine.docker, container: { pool: { size: 0 } } },
      });
      try {
        const result = await ssh(login, "echo on-tls");
        assert.equal(result.code, 0, result.stderr);
        assert.equal(result.stdout, "on-tls\n");
        // While a session runs, its container is on the TLS engine.
        const running = ssh(login, "sleep 5");
        const ids = await pollUntil(
          () => containersOn(engine, capsule.instance),
          (ids) => ids.length === 1,
        );
        assert.equal(ids.length, 1);
        assert.equal((await running).code, 0);
      } finally {
        await capsule.stop();
      }
      assert.deepEqual(await containersOn(engine, capsule.instance), []);
    });

    await t.step(
      "DOCKER_HOST, DOCKER_TLS_VERIFY and DOCKER_CERT_PATH, as the Docker CLI",
      async () => {
        const { capsule, login } = await startDemoCapsule({ env: engine.env });
        try {
          const result = await ssh(login, "echo via-env");
          assert.equal(result.stdout, "via-env\n", result.stderr);
          const unreachable = capsule.logs().find((l) => l.event === "engine.unreachable");
          assert.equal(unreachable, undefined);
        } finally {
          await capsule.stop();
        }
        assert.deepEqual(await containersOn(engine, capsule.instance), []);
      },
    );

    await t.step("a wrong CA stops the start with one line", async () => {
      const lines = await startFailure({
        docker: { host: engine.docker.host, tls: { ...tls, ca: certs.otherCa } },
      });
      const failed = lines.filter((l) => l.level === "error");
      assert.equal(failed.length, 1, JSON.stringify(failed));
      assert.equal(failed[0]!.event, "server.start_failed");
      assert.equal(failed[0]!.code, "ENGINE_TLS_FAILED");
      assert.match(
        String(failed[0]!.error),
        new RegExp(
          `^Cannot use the container engine at ${engine.docker.host.replaceAll(".", "\\.")}: ` +
            `its certificate is not signed by the CA capsule trusts`,
        ),
      );
    });

    await t.step("an expired client certificate stops the start with one line", async () => {
      const lines = await startFailure({
        docker: { host: engine.docker.host, tls: { ...tls, cert: certs.expiredCert } },
      });
      const failed = lines.filter((l) => l.level === "error");
      assert.equal(failed.length, 1, JSON.stringify(failed));
      assert.equal(failed[0]!.code, "ENGINE_TLS_INVALID");
      assert.match(
        String(failed[0]!.error),
        /^Cannot use ".*expired-cert\.pem" \(docker\.tls\.cert\) for the container engine: the client certificate expired on 2020-01-02T00:00:00\.000Z$/,
      );
    });

    await t.step("no engine at the address: one warning, and the server serves", async () => {
      const host = `tcp://127.0.0.1:${freePort()}`;
      const { capsule, login } = await startDemoCapsule({ config: { docker: { host, tls } } });
      try {
        const warnings = capsule.logs().filter((l) => l.event === "engine.unreachable");
        assert.equal(warnings.length, 1);
        assert.match(
          String(warnings[0]!.error),
          new RegExp(`^Cannot reach the container engine at ${host.replaceAll(".", "\\.")}: `),
        );
        const result = await ssh(login, "true");
        assert.equal(result.code, 125);
        assert.match(
          result.stderr,
          /capsule: Cannot start a container: the container engine is not reachable/,
        );
      } finally {
        await capsule.stop();
      }
    });
  } finally {
    await engine.stop();
  }
});
