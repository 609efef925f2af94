import assert from "node:assert/strict";
import { Ajv2020 } from "ajv/dist/2020.js";
import { parse } from "yaml";
import { runCli } from "../../src/cli/mod.ts";
import { configJsonSchemaText, defaultConfig } from "../../src/config/mod.ts";

const ROOT = new URL("../../", import.meta.url);
const SCHEMA_FILE = new URL("config.schema.json", ROOT);
const EXAMPLE_FILE = new URL("config.example.yaml", ROOT);

async function validator() {
  const schema = JSON.parse(await Deno.readTextFile(SCHEMA_FILE));
  // strict: an unknown keyword or format in the schema is an error, not ignored.
  return new Ajv2020({ allErrors: true, strict: true }).compile(schema);
}

Deno.test("config.schema.json is what `capsule config-schema` prints", async () => {
  const committed = await Deno.readTextFile(SCHEMA_FILE);
  assert.equal(
    committed,
    configJsonSchemaText(),
    "config.schema.json is stale: run `deno task start config-schema > config.schema.json`",
  );
  let stdout = "";
  const code = await runCli(["config-schema"], {
    serve: () => Promise.resolve(0),
    generateHostKey: () => assert.fail("not called"),
    hashPassword: () => assert.fail("not called"),
    version: "0.0.0",
    stdout: (text) => void (stdout += text),
    stderr: (text) => assert.fail(text),
    env: {},
    cwd: "/",
  });
  assert.equal(code, 0);
  assert.equal(stdout, committed);
});

Deno.test("config.example.yaml points editors at config.schema.json and is valid under it", async () => {
  const text = await Deno.readTextFile(EXAMPLE_FILE);
  assert.match(text, /^# yaml-language-server: \$schema=\.\/config\.schema\.json\n/);
  const validate = await validator();
  assert.ok(validate(parse(text)), JSON.stringify(validate.errors, null, 2));
});

Deno.test("config.schema.json accepts sizes, mounts, ulimits and every default as written", async () => {
  const validate = await validator();
  const valid = [
    {},
    defaultConfig(),
    {
      server: { penalties: { enabled: false } },
      container: {
        memory: 268435456,
        mounts: ["~/site:/var/www:ro", { source: "data", target: "/data" }],
        ulimits: { nofile: 8192, nproc: { soft: 10, hard: 20 }, core: "0:0" },
        tmpfs: { "/tmp": "64m" },
      },
      limits: { containers: 0 },
      users: {
        alice: {
          container: { memory: "1.5g", pool: { size: 2 }, ulimits: { core: 0 } },
          limits: { sessionsPerUser: 3 },
        },
      },
    },
  ];
  for (const document of valid) {
    assert.ok(validate(document), JSON.stringify(validate.errors, null, 2));
  }
});

Deno.test("config.schema.json refuses unknown keys and values of the wrong form", async (t) => {
  const validate = await validator();
  const cases: [string, unknown, string, string][] = [
    ["unknown key", { container: { imag: "alpine" } }, "/container", "additionalProperties"],
    ["bad size", { container: { memory: "lots" } }, "/container/memory", "anyOf"],
    ["bad mount", { container: { mounts: ["/a:/b:rx"] } }, "/container/mounts/0", "anyOf"],
    ["bad user name", { users: { "Bad Name": {} } }, "/users", "propertyNames"],
    [
      "bad tmpfs path",
      { container: { tmpfs: { "/a/../b": "1m" } } },
      "/container/tmpfs",
      "propertyNames",
    ],
    [
      "bad ulimit",
      { container: { ulimits: { nofile: "lots" } } },
      "/container/ulimits/nofile",
      "anyOf",
    ],
    [
      "global-only limit per user",
      { users: { bob: { limits: { containers: 1 } } } },
      "/users/bob/limits",
      "additionalProperties",
    ],
    ["bad hash", { users: { bob: { passwordHash: "x" } } }, "/users/bob/passwordHash", "pattern"],
  ];
  for (const [name, document, instancePath, keyword] of cases) {
    await t.step(name, () => {
      assert.equal(validate(document), false);
      assert.ok(
        validate.errors?.some((e) => e.instancePath === instancePath && e.keyword === keyword),
        JSON.stringify(validate.errors, null, 2),
      );
    });
  }
});
