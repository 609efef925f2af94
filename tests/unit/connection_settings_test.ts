import assert from "node:assert/strict";
import type { Identity } from "../../src/auth/mod.ts";
import { type Config, defaultConfig } from "../../src/config/mod.ts";
import { CapsuleError } from "../../src/errors/mod.ts";
import { createLogger, type Logger, type LogRecord } from "../../src/log/mod.ts";
import { ConnectionSettings } from "../../src/server/connection_settings.ts";
import { ConfigWebhook, WebhookClient } from "../../src/webhook/mod.ts";
import { startWebhook, type WebhookReply } from "../helpers/webhook_server.ts";

function config(): Config {
  const base = defaultConfig();
  base.profiles = { php: { image: "php:8-cli", env: { TIER: "php" } } };
  base.auth.principalProfiles = { "php-users": "php" };
  base.users = {
    alice: { authorizedKeys: [], authorizedKeysFiles: [], container: { cpus: 2 } },
  };
  return base;
}

const ALICE: Identity = { username: "alice", method: "password" };

/** A ConnectionSettings whose webhook answers `reply` to every login; its log records. */
async function withWebhook(
  reply: (body: Record<string, unknown>) => WebhookReply,
  fn: (
    settings: ConnectionSettings,
    logs: LogRecord[],
    requests: { body: Record<string, unknown> }[],
    logger: Logger,
  ) => Promise<void>,
  base: Config = config(),
) {
  const server = await startWebhook((request) => reply(request.body));
  const logs: LogRecord[] = [];
  const logger = createLogger({ sink: (record) => logs.push(record) });
  const webhook = new ConfigWebhook(
    new WebhookClient({ url: `${server.url}?token=SECRET`, timeoutMs: 2000, retries: 0 }),
  );
  const settings = new ConnectionSettings({ config: () => base, webhook });
  try {
    await fn(settings, logs, server.requests, logger);
  } finally {
    await server.close();
  }
}

const login = (connectionId: string, logger: Logger) => ({
  connectionId,
  identity: ALICE,
  remote: "127.0.0.1:50000",
  clientVersion: "SSH-2.0-OpenSSH_9.2",
  logger,
});

Deno.test("ConnectionSettings without a webhook resolves from the config at each use", () => {
  let current = config();
  const settings = new ConnectionSettings({ config: () => current });
  const owner = { connectionId: "c1", identity: ALICE };
  assert.equal(settings.containerFor(owner).cpus, 2);
  const carol = {
    connectionId: "c2",
    identity: {
      username: "carol",
      method: "publickey",
      certificate: {
        keyId: "k",
        serial: "1",
        principals: ["carol", "php-users"],
        ca: "SHA256:x",
        permitPty: true,
        permitPortForwarding: false,
        permitAgentForwarding: false,
      },
    } satisfies Identity,
  };
  assert.equal(settings.containerFor(carol).image, "php:8-cli");
  current = config();
  current.users["alice"]!.container = { cpus: 3 };
  assert.equal(settings.containerFor(owner).cpus, 3);
});

Deno.test("ConnectionSettings keeps a webhook's answer for its connection only", async () => {
  await withWebhook(() => ({ body: { profile: "php", container: { env: { SITE: "a" } } } }), async (
    settings,
    logs,
    requests,
    logger,
  ) => {
    const refused = await settings.login(login("c1", logger), new AbortController().signal);
    assert.equal(refused, undefined);
    const mine = settings.containerFor({ connectionId: "c1", identity: ALICE });
    assert.equal(mine.image, "php:8-cli");
    assert.equal(mine.cpus, 2);
    assert.deepEqual(mine.env, { TIER: "php", SITE: "a" });
    // Another connection of the same user, without an answer: the config's.
    assert.equal(settings.containerFor({ connectionId: "c2", identity: ALICE }).image, "busybox");
    settings.forget("c1");
    assert.equal(settings.containerFor({ connectionId: "c1", identity: ALICE }).image, "busybox");
    const request = requests[0]?.body;
    assert.equal(request?.["username"], "alice");
    assert.equal(request?.["connectionId"], "c1");
    assert.equal(request?.["remoteAddress"], "127.0.0.1:50000");
    const line = logs.find((r) => r.event === "webhook.config");
    assert.equal(line?.["profile"], "php");
    assert.equal(line?.["shape"], "capsule");
    assert.doesNotMatch(JSON.stringify(logs), /SECRET|SITE/);
  });
});

Deno.test("ConnectionSettings refuses a login the webhook's answer does not allow", async (t) => {
  const cases: [string, WebhookReply, RegExp][] = [
    [
      "a privileged container without unsafe.privileged",
      { body: { container: { privileged: true } } },
      /"container\.privileged" is refused.*unsafe\.privileged/,
    ],
    [
      "the host's network without unsafe.hostNamespaces",
      { body: { config: { docker: { execution: { host: { NetworkMode: "host" } } } } } },
      /"container\.network" is refused.*unsafe\.hostNamespaces/,
    ],
    [
      "the engine's socket without unsafe.engineSocket",
      { body: { container: { mounts: ["/var/run/docker.sock:/s"] } } },
      /engine's socket.*unsafe\.engineSocket/,
    ],
    ["an unknown profile", { body: { profile: "ruby" } }, /profile "ruby", which "profiles"/],
    ["a schema error", { body: { container: { cpus: -1 } } }, /"container\.cpus" must be/],
    ["a 500", { status: 500 }, /answered 500/],
    ["garbage", { body: "not json" }, /not JSON/],
  ];
  for (const [name, reply, reason] of cases) {
    await t.step(name, async () => {
      await withWebhook(() => reply, async (settings, logs, _requests, logger) => {
        const refused = await settings.login(login("c1", logger), new AbortController().signal);
        assert.ok(refused instanceof CapsuleError);
        assert.equal(refused.code, "LOGIN_SETTINGS_FAILED");
        assert.equal(refused.exitCode, 255);
        assert.match(refused.userMessage, /^Cannot log in as "alice": .*\(connection c1\)$/);
        const line = logs.find((r) => r.event === "webhook.config_failed");
        assert.match(String(line?.["reason"]), reason);
        assert.equal(line?.level, "warn");
        assert.doesNotMatch(JSON.stringify(logs), /SECRET/);
        // Nothing kept: the connection would get the config's settings.
        assert.equal(
          settings.containerFor({ connectionId: "c1", identity: ALICE }).image,
          "busybox",
        );
      });
    });
  }
});

Deno.test("ConnectionSettings lets an answer use what unsafe: allows", async () => {
  const base = config();
  base.unsafe.privileged = true;
  await withWebhook(
    () => ({ body: { container: { privileged: true } } }),
    async (settings, _logs, _requests, logger) => {
      assert.equal(
        await settings.login(login("c1", logger), new AbortController().signal),
        undefined,
      );
      assert.equal(settings.containerFor({ connectionId: "c1", identity: ALICE }).privileged, true);
    },
    base,
  );
});

Deno.test("ConnectionSettings refuses a login whose deadline passed during the call", async () => {
  await withWebhook(
    () => ({ delayMs: 5_000, body: {} }),
    async (settings, logs, _requests, logger) => {
      const deadline = new AbortController();
      const pending = settings.login(login("c1", logger), deadline.signal);
      setTimeout(() => deadline.abort(), 50);
      const refused = await pending;
      assert.ok(refused instanceof CapsuleError);
      assert.match(
        String(logs.find((r) => r.event === "webhook.config_failed")?.["reason"]),
        /before the login deadline/,
      );
    },
  );
});
