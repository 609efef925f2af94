import assert from "node:assert/strict";
import { scrypt } from "node:crypto";
import { Buffer } from "node:buffer";
import { hashPassword, isValidPasswordHash, verifyPassword } from "../../src/auth/mod.ts";

const HASH_FORMAT = /^\$scrypt\$N=16384,r=8,p=1\$([A-Za-z0-9+/]{22}==)\$([A-Za-z0-9+/]{43}=)$/;

function scryptKey(
  password: string,
  salt: Uint8Array,
  params: { N: number; r: number; p: number },
) {
  return new Promise<Buffer>((resolve, reject) =>
    scrypt(password, salt, 32, params, (error, key) => error ? reject(error) : resolve(key))
  );
}

Deno.test("hashPassword() writes the documented scrypt format that verifyPassword() accepts", async () => {
  const hash = await hashPassword("correct horse");
  const match = HASH_FORMAT.exec(hash);
  assert.ok(match, hash);
  assert.equal(Buffer.from(match[1]!, "base64").length, 16);
  assert.equal(Buffer.from(match[2]!, "base64").length, 32);
  assert.equal(isValidPasswordHash(hash), true);
  assert.equal(await verifyPassword("correct horse", hash), true);
});

Deno.test("verifyPassword() refuses a wrong password", async () => {
  const hash = await hashPassword("correct horse");
  assert.equal(await verifyPassword("correct horse ", hash), false);
  assert.equal(await verifyPassword("Correct horse", hash), false);
  assert.equal(await verifyPassword("", hash), false);
});

Deno.test("hashPassword() salts each hash differently", async () => {
  const [a, b] = await Promise.all([hashPassword("same"), hashPassword("same")]);
  assert.notEqual(a, b);
  assert.notEqual(a.split("$")[3], b.split("$")[3]);
  assert.equal(await verifyPassword("same", a), true);
  assert.equal(await verifyPassword("same", b), true);
});

Deno.test("hashPassword() refuses an empty password", async () => {
  await assert.rejects(hashPassword(""), RangeError);
});

Deno.test("verifyPassword() uses the parameters written in the hash", async () => {
  const salt = new Uint8Array(16).fill(7);
  const key = await scryptKey("pw", salt, { N: 1024, r: 4, p: 2 });
  const b64 = (bytes: Uint8Array) => Buffer.from(bytes).toString("base64");
  const hash = `$scrypt$N=1024,r=4,p=2$${b64(salt)}$${b64(key)}`;
  assert.equal(isValidPasswordHash(hash), true);
  assert.equal(await verifyPassword("pw", hash), true);
  assert.equal(await verifyPassword("pw", hash.replace("r=4", "r=8")), false);
});

Deno.test("verifyPassword() returns false for malformed hashes", async (t) => {
  const good = await hashPassword("pw");
  const [, , , salt, key] = good.split("$") as [string, string, string, string, string];
  const withParams = (params: string) => `$scrypt$${params}$${salt}$${key}`;
  const cases: Array<[string, string]> = [
    ["empty", ""],
    ["plain text", "pw"],
    ["bcrypt", "$2b$12$R9h/cIPz0gi.URNNX3kh2OPST9/PgBkqquzi.Ss7KIUgO2t0jWMUW"],
    ["missing key", `$scrypt$N=16384,r=8,p=1$${salt}`],
    ["empty salt", `$scrypt$N=16384,r=8,p=1$$${key}`],
    ["salt not base64", `$scrypt$N=16384,r=8,p=1$not*base64$${key}`],
    ["key not canonical base64", `$scrypt$N=16384,r=8,p=1$${salt}$${key.slice(0, -1)}`],
    ["key too short", `$scrypt$N=16384,r=8,p=1$${salt}$AAAA`],
    ["trailing field", `${good}$extra`],
    ["params reordered", withParams("r=8,N=16384,p=1")],
    ["N not a power of 2", withParams("N=16383,r=8,p=1")],
    ["N below 1024", withParams("N=512,r=8,p=1")],
    ["N above 2^20", withParams("N=2097152,r=8,p=1")],
    ["N with a leading zero", withParams("N=016384,r=8,p=1")],
    ["r zero", withParams("N=16384,r=0,p=1")],
    ["r above 32", withParams("N=16384,r=33,p=1")],
    ["p above 16", withParams("N=16384,r=8,p=17")],
    ["more than 1 GiB of memory", withParams("N=1048576,r=16,p=1")],
  ];
  for (const [name, hash] of cases) {
    await t.step(name, async () => {
      assert.equal(isValidPasswordHash(hash), false);
      assert.equal(await verifyPassword("pw", hash), false);
    });
  }
});
