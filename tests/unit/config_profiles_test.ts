import assert from "node:assert/strict";
import { type Config, loadConfig, profileFor, resolveContainer } from "../../src/config/mod.ts";

async function load(yaml: string): Promise<Config> {
  const dir = await Deno.makeTempDir({ prefix: "capsule-profiles-" });
  try {
    await Deno.writeTextFile(`${dir}/c.yaml`, yaml);
    return await loadConfig({ file: `${dir}/c.yaml`, env: {} });
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
}

const PROFILES = `
container:
  image: busybox
  env: { LANG: C.UTF-8, TIER: global }
  mounts: ["/srv/shared:/shared:ro"]
profiles:
  php:
    image: php:8-cli
    env: { TIER: php, APP: web }
    memory: 1g
  python:
    image: python:3-slim
    pool: { size: 1 }
auth:
  principalProfiles: { php-users: php, py-users: python }
users:
  alice:
    profile: php
    container:
      env: { APP: alice }
      mounts: ["/srv/alice:/var/www"]
  bob:
    container: { cpus: 2 }
`;

Deno.test("resolveContainer() layers global, profile, user and answer", async (t) => {
  const config = await load(PROFILES);
  await t.step("the user's profile, then the user's own overrides", () => {
    const alice = resolveContainer(config, "alice");
    assert.equal(alice.image, "php:8-cli");
    assert.equal(alice.memory, 2 ** 30);
    assert.deepEqual(alice.env, { LANG: "C.UTF-8", TIER: "php", APP: "alice" });
    assert.deepEqual(alice.mounts, [{ source: "/srv/alice", target: "/var/www", readOnly: false }]);
  });
  await t.step("a profile named by the caller replaces the user's", () => {
    const alice = resolveContainer(config, "alice", { profile: "python" });
    assert.equal(alice.image, "python:3-slim");
    assert.equal(alice.memory, 512 * 2 ** 20);
    assert.deepEqual(alice.env, { LANG: "C.UTF-8", TIER: "global", APP: "alice" });
  });
  await t.step("overrides (a webhook's answer) come last", () => {
    const alice = resolveContainer(config, "alice", {
      overrides: { image: "php:8.3-cli", env: { APP: "hook" } },
    });
    assert.equal(alice.image, "php:8.3-cli");
    assert.deepEqual(alice.env, { LANG: "C.UTF-8", TIER: "php", APP: "hook" });
  });
  await t.step("no profile: the global settings with the user's", () => {
    const bob = resolveContainer(config, "bob");
    assert.equal(bob.image, "busybox");
    assert.equal(bob.cpus, 2);
    assert.deepEqual(bob.mounts, [{ source: "/srv/shared", target: "/shared", readOnly: true }]);
  });
  await t.step("a user the config does not know gets the profile alone", () => {
    const carol = resolveContainer(config, "carol", { profile: "php" });
    assert.equal(carol.image, "php:8-cli");
    assert.deepEqual(carol.env, { LANG: "C.UTF-8", TIER: "php", APP: "web" });
  });
  await t.step("the result is a copy", () => {
    const one = resolveContainer(config, "alice");
    one.env["X"] = "1";
    one.forwarding.local = true;
    assert.equal(resolveContainer(config, "alice").env["X"], undefined);
    assert.equal(config.profiles["php"]?.env?.["X"], undefined);
    assert.equal(config.container.forwarding.local, false);
  });
});

Deno.test("profileFor() takes the user's profile, else a certificate principal's", async (t) => {
  const config = await load(PROFILES);
  const cases: [string, string, string[] | undefined, string | undefined][] = [
    ["the user entry", "alice", undefined, "php"],
    ["the user entry over a principal", "alice", ["alice", "py-users"], "php"],
    ["a principal of a user without one", "bob", ["bob", "py-users"], "python"],
    ["the first listed principal, in the certificate's order", "carol", [
      "carol",
      "py-users",
      "php-users",
    ], "python"],
    ["no listed principal", "carol", ["carol", "staff"], undefined],
    ["no certificate", "carol", undefined, undefined],
    ["a principal like an object key", "carol", ["constructor", "__proto__"], undefined],
  ];
  for (const [name, username, principals, expected] of cases) {
    await t.step(name, () => assert.equal(profileFor(config, { username, principals }), expected));
  }
});

Deno.test("loadConfig() refuses profile names that profiles does not define", async (t) => {
  await t.step("in a user entry", async () => {
    await assert.rejects(
      () => load("profiles: { php: {} }\nusers:\n  alice:\n    profile: pyhton\n"),
      /:4:\d+: "users\.alice\.profile" names profile "pyhton", which "profiles" does not define \(defined: "php"\)/,
    );
  });
  await t.step("in auth.principalProfiles", async () => {
    await assert.rejects(
      () => load("auth:\n  principalProfiles: { staff: web }\n"),
      /"auth\.principalProfiles\.staff" names profile "web".*\(defined: none\)/,
    );
  });
  await t.step("a profile with a setting that is not one", async () => {
    await assert.rejects(
      () => load("profiles:\n  php:\n    imgae: php\n"),
      /"profiles\.php\.imgae".*image/,
    );
  });
});

Deno.test("loadConfig() refuses isolation-weakening profiles unless unsafe allows them", async () => {
  const yaml = "profiles:\n  root:\n    privileged: true\n";
  await assert.rejects(
    () => load(yaml),
    /:3:\d+: "profiles\.root\.privileged" is refused.*unsafe\.privileged/,
  );
  const config = await load(`${yaml}unsafe: { privileged: true }\n`);
  assert.equal(config.profiles["root"]?.privileged, true);
});

Deno.test("loadConfig() checks webhooks.config", async (t) => {
  const cases: [string, string, RegExp][] = [
    ["a URL of another scheme", "url: ftp://hooks/x", /"webhooks\.config\.url" must be/],
    ["a URL with a password", "url: https://u:p@hooks/x", /without a user or password/],
    ["a timeout of 0", "timeout: 0", /"webhooks\.config\.timeout" must be a number/],
    ["a certificate without its key", "clientCert: /c.pem", /both or neither/],
  ];
  for (const [name, line, message] of cases) {
    await t.step(name, async () => {
      await assert.rejects(() => load(`webhooks:\n  config:\n    ${line}\n`), message);
    });
  }
  await t.step("a full setting, paths made absolute", async () => {
    const config = await load(
      "webhooks:\n  config:\n    url: https://hooks.example:8443/cfg?token=x\n    timeout: 0.5\n    caCert: ca.pem\n    clientCert: /etc/c.pem\n    clientKey: /etc/c.key\n",
    );
    const hook = config.webhooks.config;
    assert.equal(hook.url, "https://hooks.example:8443/cfg?token=x");
    assert.equal(hook.timeout, 0.5);
    assert.equal(hook.retries, 2);
    assert.match(hook.caCert ?? "", /^\/.*\/ca\.pem$/);
  });
});
