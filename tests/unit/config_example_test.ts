import assert from "node:assert/strict";
import { verifyPassword } from "../../src/auth/mod.ts";
import { configSchema, containerSchema, userSchema } from "../../src/config/config_schema.ts";
import { loadConfig } from "../../src/config/mod.ts";
import type { ObjectSchema } from "../../src/config/object_schema.ts";

const EXAMPLE = new URL("../../config.example.yaml", import.meta.url).pathname;
const ROOT = new URL("../../", import.meta.url).pathname.replace(/\/$/, "");

Deno.test("config.example.yaml loads and is the dev setup it describes", async () => {
  const config = await loadConfig({ file: EXAMPLE, env: { HOME: "/home/dev" }, cwd: "/" });
  assert.equal(config.server.listen, "127.0.0.1:2222");
  assert.equal(config.server.stateDir, `${ROOT}/.capsule`);
  assert.deepEqual(config.auth.anyUserKeysFiles, [
    "/home/dev/.ssh/id_ed25519.pub",
    "/home/dev/.ssh/id_rsa.pub",
    "/home/dev/.ssh/authorized_keys",
  ]);
  assert.deepEqual(Object.keys(config.users), ["demo"]);
  const hash = config.users["demo"]?.passwordHash;
  assert.ok(hash !== undefined && await verifyPassword("demo", hash));
});

Deno.test("config.example.yaml documents every option", async () => {
  const text = await Deno.readTextFile(EXAMPLE);
  const keys = (schema: ObjectSchema<unknown>): string[] =>
    Object.entries(schema.shape).flatMap(([key, field]) =>
      field.kind === "object" ? [key, ...keys(field as ObjectSchema<unknown>)] : [key]
    );
  const all = new Set([
    ...keys(configSchema as ObjectSchema<unknown>),
    ...keys(containerSchema as ObjectSchema<unknown>),
    ...keys(userSchema as ObjectSchema<unknown>),
  ]);
  for (const key of all) {
    assert.match(
      text,
      new RegExp(`^\\s*#?\\s*${key}:`, "m"),
      `option "${key}" is not in the example`,
    );
  }
});
