import assert from "node:assert/strict";
import { findWellKnownPasswords, hashPassword } from "../../src/auth/mod.ts";
import type { UserConfig } from "../../src/config/types.ts";

const user = async (password?: string): Promise<UserConfig> => ({
  ...(password === undefined ? {} : { passwordHash: await hashPassword(password) }),
  authorizedKeys: [],
  authorizedKeysFiles: [],
  container: {},
});

Deno.test("findWellKnownPasswords() names users with a well-known password or their own name", async () => {
  const users: Record<string, UserConfig> = {
    demo: await user("demo"),
    strong: await user("7f3c-horse-battery"),
    ops: await user("password"),
    keysonly: await user(),
    eve: await user("eve"),
    digits: await user("123456"),
    boss: await user("admin"),
    sys: await user("root"),
    near: await user("admin1"),
  };
  assert.deepEqual(await findWellKnownPasswords({ users }), [
    "demo",
    "ops",
    "eve",
    "digits",
    "boss",
    "sys",
  ]);
});

Deno.test("findWellKnownPasswords() finds nothing when all passwords are strong", async () => {
  const users = { alice: await user("correct horse"), bob: await user() };
  assert.deepEqual(await findWellKnownPasswords({ users }), []);
});
