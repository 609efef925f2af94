/**
 * End to end: profiles and the config webhook, with OpenSSH logins against
 * the real engine. A profile picked by the user entry and by the webhook's
 * answer (in capsule's and ContainerSSH's shapes); the webhook over TLS with
 * a custom CA and over mutual TLS; and every way it fails (down, slow, 500,
 * garbage, an answer asking for what `unsafe:` does not allow): the login is
 * refused with one line, the log says why, nothing is started, and the
 * server goes on serving others.
 */
import assert from "node:assert/strict";
import { demoPasswordHash, startDemoCapsule } from "../helpers/demo_capsule.ts";
import { assertNoContainersLeft, requireEngine, requireImage } from "../helpers/docker.ts";
import { type Login, ssh } from "../helpers/ssh_client.ts";
import { makeTestPki } from "../helpers/test_pki.ts";
import { closedPort, startWebhook, type WebhookReply } from "../helpers/webhook_server.ts";

const DEBIAN = "capsule-test-debian:latest";

/** What the test webhook answers, by login name. */
function answerFor(username: string): WebhookReply {
  switch (username) {
    case "hooked":
      return { body: { profile: "deb", container: { env: { FROM: "webhook" } } } };
    case "cssh":
      return {
        body: {
          username,
          config: {
            backend: "docker",
            docker: {
              execution: {
                container: { Image: "busybox", Env: ["FROM=containerssh"], WorkingDir: "/tmp" },
                host: { Memory: 0, Privileged: false },
                mode: "session",
                idleCommand: ["/usr/bin/containerssh-agent", "wait-signal"],
              },
            },
          },
        },
      };
    case "slow":
      return { delayMs: 10_000, body: {} };
    case "broken":
      return { status: 500, body: { error: "database down" } };
    case "garbage":
      return { body: "<html>Bad gateway</html>" };
    case "root":
      return { body: { container: { privileged: true } } };
    case "hostnet":
      return { body: { config: { docker: { execution: { host: { NetworkMode: "host" } } } } } };
    default:
      return { body: {} };
  }
}

Deno.test("end to end: profiles and the config webhook", async (t) => {
  await requireEngine();
  await requireImage(DEBIAN);
  const hook = await startWebhook((request) => answerFor(String(request.body["username"])));
  const hash = await demoPasswordHash();
  const users = Object.fromEntries(
    ["pat", "hooked", "cssh", "slow", "broken", "garbage", "root", "hostnet"].map((name) => [
      name,
      { passwordHash: hash, ...(name === "pat" ? { profile: "php" } : {}) },
    ]),
  );
  const { capsule, login: demo } = await startDemoCapsule({
    config: {
      profiles: {
        php: { env: { PROFILE: "php" }, workdir: "/tmp" },
        deb: { image: DEBIAN, shell: "/bin/bash", env: { PROFILE: "deb" } },
      },
      users,
      webhooks: { config: { url: hook.url, timeout: 0.5, retries: 1 } },
    },
  });
  const as = (user: string): Login => ({ ...demo, user });
  /** The one line a refused login reads, and its status. */
  const assertRefused = async (user: string) => {
    const result = await ssh(as(user), "echo should-not-run");
    assert.equal(result.stdout, "");
    assert.match(
      result.stderr,
      new RegExp(
        `^capsule: Cannot log in as "${user}": the server could not get the settings for this login \\(connection [0-9a-f]{12}\\)\\n$`,
      ),
    );
    assert.equal(result.code, 255);
    const failed = capsule.logs().filter((r) =>
      r.event === "webhook.config_failed" && r.user === user
    );
    assert.equal(failed.length, 1, JSON.stringify(failed));
    return failed[0]!;
  };
  const stillServes = async () => {
    const result = await ssh(demo, "echo still-here");
    assert.equal(result.stdout, "still-here\n", result.stderr);
  };
  const created = (user: string) =>
    capsule.logs().filter((r) => r.event === "container.start" && r.user === user).length;

  try {
    await t.step("a user entry's profile, under the user's settings", async () => {
      const result = await ssh(as("pat"), 'echo "$PROFILE $(pwd)"');
      assert.equal(result.stdout, "php /tmp\n", result.stderr);
      assert.equal(result.code, 0);
    });

    await t.step("the webhook's answer picks a profile and adds settings", async () => {
      const result = await ssh(
        as("hooked"),
        'echo "$PROFILE $FROM $BASH_VERSION"; grep -o bookworm /etc/os-release | head -1',
      );
      assert.equal(result.code, 0, result.stderr);
      assert.match(result.stdout, /^deb webhook \d+\.\d+.*\nbookworm\n$/);
      const line = capsule.logs().find((r) => r.event === "webhook.config" && r.user === "hooked");
      assert.equal(line?.["profile"], "deb");
      assert.equal(line?.["image"], DEBIAN);
      const request = hook.requests.find((r) => r.body["username"] === "hooked")?.body;
      assert.match(String(request?.["remoteAddress"]), /^127\.0\.0\.1:\d+$/);
      assert.match(String(request?.["connectionId"]), /^[0-9a-f]{12}$/);
      assert.match(String(request?.["clientVersion"]), /^SSH-2\.0-OpenSSH/);
      assert.deepEqual((request?.["metadata"] as Record<string, unknown>)["capsule.method"], {
        value: "password",
        sensitive: false,
      });
    });

    await t.step("ContainerSSH's answer shape is taken", async () => {
      const result = await ssh(as("cssh"), 'echo "$FROM $(pwd)"');
      assert.equal(result.stdout, "containerssh /tmp\n", result.stderr);
      const line = capsule.logs().find((r) => r.event === "webhook.config" && r.user === "cssh");
      assert.equal(line?.["shape"], "containerssh");
    });

    await t.step("a webhook slower than its timeout: refused, retried once", async () => {
      const before = hook.requests.length;
      const failed = await assertRefused("slow");
      assert.equal(failed["kind"], "unavailable");
      assert.equal(failed["attempts"], 2);
      assert.match(String(failed["reason"]), /no answer within 0\.5 s/);
      assert.equal(hook.requests.length - before, 2);
      await stillServes();
    });

    await t.step("a 500: refused after its retry", async () => {
      const failed = await assertRefused("broken");
      assert.equal(failed["attempts"], 2);
      assert.match(String(failed["reason"]), /answered 500/);
      assert.doesNotMatch(JSON.stringify(capsule.logs()), /database down/);
      await stillServes();
    });

    await t.step("garbage: refused at once", async () => {
      const failed = await assertRefused("garbage");
      assert.equal(failed["kind"], "invalid");
      assert.match(String(failed["reason"]), /not JSON/);
      await stillServes();
    });

    await t.step("a privileged container without unsafe.privileged: refused", async () => {
      const failed = await assertRefused("root");
      assert.equal(failed["kind"], "unsafe");
      assert.match(String(failed["reason"]), /"container\.privileged" is refused/);
      await stillServes();
    });

    await t.step("the host's network (ContainerSSH's shape) without unsafe: refused", async () => {
      const failed = await assertRefused("hostnet");
      assert.match(String(failed["reason"]), /"container\.network" is refused.*hostNamespaces/);
      await stillServes();
    });

    await t.step("nothing was started for a refused login", () => {
      assert.ok(created("pat") > 0, "container.start lines name their user");
      for (const user of ["slow", "broken", "garbage", "root", "hostnet"]) {
        assert.equal(created(user), 0, `a container was started for ${user}`);
      }
    });
  } finally {
    await capsule.stop();
    await hook.close();
  }
  await assertNoContainersLeft(15_000, capsule.instance);
});

Deno.test("end to end: the config webhook over TLS and mutual TLS, and down", async (t) => {
  await requireEngine();
  const pki = await makeTestPki();
  const answer = () => ({ body: { container: { env: { FROM: "tls" } } } });
  const tls = await startWebhook(answer, { tls: "tls", pki });
  const mtls = await startWebhook((r) => ({ body: { container: { env: { FROM: r.clientCn } } } }), {
    tls: "mtls",
    pki,
  });
  const servers: { stop(): Promise<number>; instance: string }[] = [];
  const start = async (config: Record<string, unknown>) => {
    const { capsule, login } = await startDemoCapsule({
      config: {
        // A short login deadline, which the webhook's retries must fit in.
        server: { loginTimeout: 3 },
        webhooks: { config: { timeout: 1, retries: 0, ...config } },
      },
    });
    servers.push(capsule);
    return { capsule, login };
  };
  try {
    await t.step("TLS with a custom CA", async () => {
      const { login } = await start({ url: tls.url, caCert: pki.ca });
      const result = await ssh(login, "echo $FROM");
      assert.equal(result.stdout, "tls\n", result.stderr);
    });

    await t.step("mutual TLS: capsule presents its client certificate", async () => {
      const { login } = await start({
        url: mtls.url,
        caCert: pki.ca,
        clientCert: pki.clientCert,
        clientKey: pki.clientKey,
      });
      const result = await ssh(login, "echo $FROM");
      assert.equal(result.stdout, "capsule\n", result.stderr);
    });

    await t.step("mutual TLS without a client certificate: refused", async () => {
      const { capsule, login } = await start({ url: mtls.url, caCert: pki.ca });
      const result = await ssh(login, "echo should-not-run");
      assert.equal(result.stdout, "");
      assert.match(result.stderr, /^capsule: Cannot log in as "demo": /);
      const failed = await capsule.waitForLog((r) => r.event === "webhook.config_failed");
      assert.match(String(failed["reason"]), /cannot reach it/);
    });

    await t.step("a CA that did not sign the webhook's certificate: refused", async () => {
      const { capsule, login } = await start({ url: tls.url, caCert: pki.otherCa });
      const result = await ssh(login, "echo should-not-run");
      assert.equal(result.code, 255);
      await capsule.waitForLog((r) => r.event === "webhook.config_failed");
    });

    await t.step("retries never outlast the login deadline", async () => {
      const slow = await startWebhook(() => ({ delayMs: 30_000, body: {} }));
      try {
        const { capsule, login } = await start({ url: slow.url, timeout: 10, retries: 5 });
        const result = await ssh(login, "echo should-not-run");
        assert.equal(result.code, 255);
        assert.match(result.stderr, /^capsule: Cannot log in as "demo": /);
        const failed = await capsule.waitForLog((r) => r.event === "webhook.config_failed");
        assert.match(String(failed["reason"]), /before the login deadline/);
        assert.equal(failed["attempts"], 1);
      } finally {
        await slow.close();
      }
    });

    await t.step("the webhook down: refused, and served again once it is back", async () => {
      const port = closedPort();
      const { capsule, login } = await start({ url: `http://127.0.0.1:${port}/config` });
      const refused = await ssh(login, "echo should-not-run");
      assert.equal(refused.code, 255);
      assert.match(refused.stderr, /^capsule: Cannot log in as "demo": /);
      const failed = await capsule.waitForLog((r) => r.event === "webhook.config_failed");
      assert.equal(failed["kind"], "unavailable");
      assert.match(String(failed["reason"]), /cannot reach it/);
      const back = Deno.serve(
        { hostname: "127.0.0.1", port, onListen: () => {} },
        () => Response.json({ container: { env: { FROM: "back" } } }),
      );
      try {
        const result = await ssh(login, "echo $FROM");
        assert.equal(result.stdout, "back\n", result.stderr);
      } finally {
        await back.shutdown();
      }
    });
  } finally {
    for (const server of servers) await server.stop();
    await tls.close();
    await mtls.close();
    await Deno.remove(pki.dir, { recursive: true });
  }
  for (const server of servers) await assertNoContainersLeft(15_000, server.instance);
});
