/**
 * End to end: images pulled from a private registry (Debian's
 * `docker-registry` on a loopback port, htpasswd with bcrypt), as a user
 * and the operator see it: progress on the client's stderr (TTY and plain),
 * one pull for concurrent logins, a clear line each for wrong credentials,
 * a registry that is down and a missing tag, no credential in any log line
 * or client message, and a pre-pull that spares the first login its wait.
 */
import assert from "node:assert/strict";
import { freePort } from "../helpers/background.ts";
import type { CapsuleProcess } from "../helpers/capsule_process.ts";
import { demoPasswordHash, startDemoCapsule } from "../helpers/demo_capsule.ts";
import { capsuleContainers, requireEngine, requireImage } from "../helpers/docker.ts";
import { pollUntil } from "../helpers/poll.ts";
import { type Login, ssh, type SshResult } from "../helpers/ssh_client.ts";
import { hasImage, MINBASE_IMAGE, removeImage, TestRegistry } from "../helpers/test_registry.ts";
import { DEMO_PASSWORD } from "../helpers/demo_capsule.ts";

const PASSWORD = `reg-${crypto.randomUUID()}`;
const WRONG_PASSWORD = `wrong-${crypto.randomUUID()}`;

/** Waits until the server's containers are gone, so that nothing holds the image. */
async function settle(capsule: CapsuleProcess): Promise<void> {
  await pollUntil(() => capsuleContainers(capsule.instance), (ids) => ids.length === 0);
}

function pullsOf(capsule: CapsuleProcess, image: string, state: string) {
  return capsule.logs().filter((r) =>
    r["event"] === "image.pull" && r["image"] === image && r["state"] === state
  );
}

Deno.test("images from a private registry: progress, one pull, clear failures, no secrets", async (t) => {
  await requireEngine();
  await requireImage(MINBASE_IMAGE);
  const registry = await TestRegistry.start("capsule", PASSWORD);
  const seen: string[] = [];
  const record = (result: SshResult) => {
    seen.push(result.stdout, result.stderr);
    return result;
  };
  let capsule: CapsuleProcess | undefined;
  try {
    const image = await registry.pushFresh("capsule-pull", "1");
    // The same registry under another name, with a wrong password.
    const wrongHost = `localhost:${registry.port}`;
    const downHost = `127.0.0.1:${freePort()}`;
    const hash = await demoPasswordHash();
    const user = (image: string) => ({ passwordHash: hash, container: { image } });
    const started = await startDemoCapsule({
      config: {
        docker: {
          prePull: false,
          registries: {
            [registry.host]: { username: "capsule", password: PASSWORD },
            [wrongHost]: { username: "capsule", password: WRONG_PASSWORD },
          },
        },
        users: {
          puller: user(image),
          wrong: user(`${wrongHost}/capsule-pull:1`),
          down: user(`${downHost}/capsule-pull:1`),
          missing: user(`${registry.host}/capsule-pull:nope`),
        },
      },
    });
    capsule = started.capsule;
    const login = (name: string): Login => ({
      port: started.login.port,
      user: name,
      password: DEMO_PASSWORD,
    });
    let fetchesPerPull = 0;

    await t.step(
      "ssh -tt: one line redrawn while the image is pulled, then the command",
      async () => {
        const before = registry.blobFetches("capsule-pull");
        const result = record(await ssh(login("puller"), "echo ran-$((6*7))", { args: ["-tt"] }));
        assert.equal(result.code, 0, result.stdout + result.stderr);
        // capsule's lines are the channel's stderr, which ssh prints on its own.
        assert.equal(result.stdout, "ran-42\r\n");
        assert.match(
          result.stderr,
          new RegExp(`^\\rcapsule: pulling ${image}  [0-9.]+/[0-9.]+ MB\x1b\\[K`),
        );
        assert.match(
          result.stderr,
          new RegExp(`\\rcapsule: pulled ${image}  \\d+(\\.\\d)? MB\x1b\\[K\r\n$`),
        );
        assert.ok(!result.stderr.slice(0, -2).includes("\n"), "one line, redrawn in place");
        fetchesPerPull = registry.blobFetches("capsule-pull") - before;
        assert.ok(fetchesPerPull >= 1, "the registry served the image's blobs");
        const done = pullsOf(capsule!, image, "done");
        assert.equal(done.length, 1);
        assert.ok(Number(done[0]?.["bytes"]) > 10e6, `bytes: ${done[0]?.["bytes"]}`);
        assert.equal(typeof done[0]?.["duration_ms"], "number");
        assert.equal(done[0]?.["auth"], true);
      },
    );

    await t.step("plain ssh: a few lines on stderr; nothing once the image is there", async () => {
      await settle(capsule!);
      await removeImage(image);
      const result = record(await ssh(login("puller"), "echo ran"));
      assert.equal(result.code, 0, result.stderr);
      assert.equal(result.stdout, "ran\n");
      const lines = result.stderr.split("\n").filter((l) => l !== "");
      assert.ok(lines.length >= 2 && lines.length <= 6, result.stderr);
      assert.match(lines[0]!, new RegExp(`^capsule: pulling ${image}`));
      assert.match(lines.at(-1)!, new RegExp(`^capsule: pulled ${image}  \\d`));
      assert.ok(!result.stderr.includes("\r"));

      const again = record(await ssh(login("puller"), "echo ran"));
      assert.equal(again.code, 0);
      assert.equal(again.stderr, "");
      assert.equal(pullsOf(capsule!, image, "start").length, 2);
    });

    await t.step("three logins at once: one pull, each sees its progress", async () => {
      await settle(capsule!);
      await removeImage(image);
      const before = registry.blobFetches("capsule-pull");
      const starts = pullsOf(capsule!, image, "start").length;
      const results = await Promise.all(
        [1, 2, 3].map((n) => ssh(login("puller"), `echo login-${n}`).then(record)),
      );
      results.forEach((result, i) => {
        assert.equal(result.code, 0, result.stderr);
        assert.equal(result.stdout, `login-${i + 1}\n`);
        assert.match(result.stderr, new RegExp(`capsule: pulling ${image}`));
        assert.match(result.stderr, new RegExp(`capsule: pulled ${image}`));
      });
      assert.equal(pullsOf(capsule!, image, "start").length, starts + 1);
      assert.equal(registry.blobFetches("capsule-pull") - before, fetchesPerPull);
    });

    const failures: [string, RegExp, string][] = [
      [
        "wrong",
        new RegExp(
          `^capsule: Cannot start a container: image "${wrongHost}/capsule-pull:1": registry "${wrongHost}" refused access`,
        ),
        "IMAGE_PULL_DENIED",
      ],
      [
        "down",
        new RegExp(
          `^capsule: Cannot start a container: image ".*": registry "${downHost}" cannot be reached$`,
        ),
        "REGISTRY_UNREACHABLE",
      ],
      [
        "missing",
        new RegExp(`^capsule: Cannot start a container: image ".*:nope" not found in registry`),
        "IMAGE_NOT_FOUND",
      ],
    ];
    for (const [name, line, code] of failures) {
      await t.step(
        `${name}: one clear line for the user, the details for the operator`,
        async () => {
          const result = record(await ssh(login(name), "echo never"));
          assert.equal(result.code, 125);
          assert.equal(result.stdout, "");
          const lines = result.stderr.split("\n").filter((l) => l !== "");
          assert.equal(lines.length, 1, result.stderr);
          assert.match(lines[0]!, line);
          const failed = capsule!.logs().find((r) =>
            r["event"] === "image.pull" && r["state"] === "failed" && r["code"] === code
          );
          assert.ok(failed, `an image.pull failed line with ${code}`);
          assert.ok(String(failed["error"]).length > 0);
        },
      );
    }

    await t.step("no credential in any log line or client message", () => {
      const logs = JSON.stringify(capsule!.logs());
      for (const secret of [PASSWORD, WRONG_PASSWORD]) {
        assert.ok(!logs.includes(secret), "a password in capsule's log");
        assert.ok(!seen.some((text) => text.includes(secret)), "a password sent to a client");
        assert.ok(!logs.includes(btoa(`capsule:${secret}`)));
      }
      // The check can fail: the log is the one the steps above wrote.
      assert.ok(logs.includes("image.pull"));
    });

    await t.step(
      "pre-pull: the image is there before the first login, which does not wait",
      async () => {
        await settle(capsule!);
        assert.equal(await capsule!.stop(), 0);
        capsule = undefined;
        await removeImage(image);
        const next = await startDemoCapsule({
          config: {
            docker: {
              registries: { [registry.host]: { username: "capsule", password: PASSWORD } },
            },
            users: { puller: user(image) },
          },
        });
        capsule = next.capsule;
        await capsule.waitForLog(
          (r) => r["event"] === "image.pull" && r["image"] === image && r["state"] === "done",
          60_000,
        );
        assert.ok(await hasImage(image));
        const result = record(
          await ssh({ ...login("puller"), port: next.login.port }, "echo first"),
        );
        assert.equal(result.code, 0, result.stderr);
        assert.equal(result.stdout, "first\n");
        assert.equal(result.stderr, "");
        assert.equal(pullsOf(capsule, image, "start").length, 1);
      },
    );
  } finally {
    if (capsule) await capsule.stop();
    await registry.stop();
    for (const tag of ["capsule-pull:1"]) {
      await removeImage(`${registry.host}/${tag}`).catch(() => {});
    }
  }
});
