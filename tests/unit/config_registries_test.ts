import assert from "node:assert/strict";
import { canonicalRegistry, ConfigError, loadConfig, registryOf } from "../../src/config/mod.ts";

const HOME = "/home/tester";
const SECRET = "pa55-w0rd-never-shown";

async function withDir(fn: (dir: string) => Promise<void>): Promise<void> {
  const dir = await Deno.makeTempDir({ prefix: "capsule-registries-" });
  try {
    await fn(dir);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
}

async function loadError(file: string): Promise<ConfigError> {
  try {
    await loadConfig({ file, env: { HOME } });
  } catch (error) {
    assert.ok(error instanceof ConfigError, `expected a ConfigError, got ${error}`);
    return error;
  }
  assert.fail("expected loadConfig() to throw");
}

Deno.test("registryOf() finds the registry of an image as the Docker client does", async (t) => {
  const cases: [string, string][] = [
    ["busybox", "docker.io"],
    ["php:8-cli", "docker.io"],
    ["library/php:8-cli", "docker.io"],
    ["team/app:1", "docker.io"],
    ["registry.example/php:8-cli", "registry.example"],
    ["127.0.0.1:5000/minbase:1", "127.0.0.1:5000"],
    ["localhost/app", "localhost"],
    ["Registry.Example:443/a/b@sha256:00", "registry.example:443"],
    ["index.docker.io/library/busybox", "docker.io"],
  ];
  for (const [image, registry] of cases) {
    await t.step(image, () => assert.equal(registryOf(image), registry));
  }
});

Deno.test("canonicalRegistry() takes a config.json key to a host", () => {
  assert.equal(canonicalRegistry("https://index.docker.io/v1/"), "docker.io");
  assert.equal(canonicalRegistry("http://127.0.0.1:5000"), "127.0.0.1:5000");
  assert.equal(canonicalRegistry("ghcr.io"), "ghcr.io");
});

Deno.test("loadConfig() reads a registry's passwordFile into its password", async () => {
  await withDir(async (dir) => {
    await Deno.writeTextFile(`${dir}/pw`, `${SECRET}\n`);
    await Deno.writeTextFile(
      `${dir}/c.yaml`,
      `docker:\n  registries:\n    "127.0.0.1:5000": { username: alice, passwordFile: pw }\n`,
    );
    const config = await loadConfig({ file: `${dir}/c.yaml`, env: { HOME } });
    const entry = config.docker.registries["127.0.0.1:5000"];
    assert.equal(entry?.username, "alice");
    assert.equal(entry?.password, SECRET);
    assert.equal(entry?.passwordFile, `${dir}/pw`);
  });
});

Deno.test("loadConfig() refuses registry entries that do not say one way to log in", async (t) => {
  const cases: [string, string, RegExp][] = [
    ["none", `{ username: alice }`, /exactly one of .*got none/],
    [
      "two",
      `{ username: alice, password: x, identityToken: y }`,
      /got "password", "identityToken"/,
    ],
    ["no user", `{ password: x }`, /"docker.registries.r.example.username" must be set/],
    ["bad host", null as unknown as string, /a registry host like/],
  ];
  for (const [name, entry, expected] of cases) {
    await t.step(name, async () => {
      await withDir(async (dir) => {
        const yaml = entry === null
          ? `docker:\n  registries:\n    "https://r.example/": { username: a, password: b }\n`
          : `docker:\n  registries:\n    r.example: ${entry}\n`;
        await Deno.writeTextFile(`${dir}/c.yaml`, yaml);
        const error = await loadError(`${dir}/c.yaml`);
        assert.match(error.message, expected);
        assert.match(error.message, /c\.yaml:\d+:\d+: /);
      });
    });
  }
  await t.step("identityToken alone is fine", async () => {
    await withDir(async (dir) => {
      await Deno.writeTextFile(
        `${dir}/c.yaml`,
        `docker:\n  registries:\n    r.example: { identityToken: tok }\n`,
      );
      const config = await loadConfig({ file: `${dir}/c.yaml`, env: { HOME } });
      assert.equal(config.docker.registries["r.example"]?.identityToken, "tok");
    });
  });
});

Deno.test("loadConfig() says which passwordFile it cannot read, never what is in one", async () => {
  await withDir(async (dir) => {
    await Deno.writeTextFile(
      `${dir}/c.yaml`,
      `docker:\n  registries:\n    r.example: { username: a, passwordFile: missing }\n`,
    );
    const error = await loadError(`${dir}/c.yaml`);
    assert.match(
      error.message,
      /"docker\.registries\.r\.example\.passwordFile": cannot read ".*\/missing": no such file/,
    );
  });
});

Deno.test("loadConfig() takes the auths of a Docker config.json, its own entries first", async () => {
  await withDir(async (dir) => {
    const auth = (s: string) => btoa(s);
    await Deno.writeTextFile(
      `${dir}/config.json`,
      JSON.stringify({
        auths: {
          "https://index.docker.io/v1/": { auth: auth(`hubuser:${SECRET}`) },
          "r.example": { auth: auth("fromfile:nope") },
          "helper.example": {},
          "tok.example": { identitytoken: "tok" },
        },
        credsStore: "desktop",
      }),
    );
    await Deno.writeTextFile(
      `${dir}/c.yaml`,
      `docker:\n  configFile: config.json\n  registries:\n    r.example: { username: own, password: mine }\n`,
    );
    const config = await loadConfig({ file: `${dir}/c.yaml`, env: { HOME } });
    const registries = config.docker.registries;
    assert.deepEqual(registries["docker.io"], { username: "hubuser", password: SECRET });
    assert.equal(registries["r.example"]?.username, "own");
    assert.deepEqual(registries["tok.example"], { username: "", identityToken: "tok" });
    assert.equal(registries["helper.example"], undefined);
  });
});

Deno.test("loadConfig() refuses a config.json it cannot parse, without quoting it", async () => {
  await withDir(async (dir) => {
    await Deno.writeTextFile(`${dir}/config.json`, `{"auths": {"r.example": {"auth": "${SECRET}`);
    await Deno.writeTextFile(`${dir}/c.yaml`, `docker:\n  configFile: config.json\n`);
    const error = await loadError(`${dir}/c.yaml`);
    assert.match(
      error.message,
      /"docker\.configFile": cannot read ".*config\.json": not valid JSON/,
    );
    assert.ok(!error.message.includes(SECRET));
  });
});
