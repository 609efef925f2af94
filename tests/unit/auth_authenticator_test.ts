import assert from "node:assert/strict";
import { Buffer } from "node:buffer";
import {
  Authenticator,
  type AuthenticatorConfig,
  fingerprintSha256,
  hashPassword,
  isValidPasswordHash,
  verifyPassword,
} from "../../src/auth/mod.ts";
import type { UserConfig } from "../../src/config/types.ts";
import { createLogger, type LogRecord } from "../../src/log/mod.ts";

/** An `auth` section: the defaults with `anyUserKeysFiles` set. */
function authOf(auth: { anyUserKeysFiles: string[] }) {
  return {
    trustedUserCAKeys: [],
    revokedCertificates: { serials: [], keys: [] },
    principalProfiles: {},
    ...auth,
  };
}

/** A synthetic SSH wire blob: enough for the authenticator, which never parses key math. */
function blob(type: string, fill: number): Uint8Array {
  const name = new TextEncoder().encode(type);
  const out = new Uint8Array(4 + name.length + 4 + 32);
  const view = new DataView(out.buffer);
  view.setUint32(0, name.length);
  out.set(name, 4);
  view.setUint32(4 + name.length, 32);
  out.fill(fill, 8 + name.length);
  return out;
}

const key = (type: string, fill: number) => ({ algo: type, data: blob(type, fill) });
const line = (k: { algo: string; data: Uint8Array }, comment = "") =>
  `${k.algo} ${Buffer.from(k.data).toString("base64")} ${comment}`.trimEnd();

const ALICE_KEY = key("ssh-ed25519", 1);
const BOB_KEY = key("ssh-ed25519", 2);
const ANY_KEY = key("ssh-ed25519", 3);
const RSA_KEY = key("ssh-rsa", 4);
const STRANGER_KEY = key("ssh-ed25519", 9);

const ALICE_HASH = await hashPassword("alice-pw");

const user = (fields: Partial<UserConfig>): UserConfig => ({
  authorizedKeys: [],
  authorizedKeysFiles: [],
  container: {},
  ...fields,
});

function config(anyUserKeysFiles: string[] = ["/keys/any"]): AuthenticatorConfig {
  return {
    users: {
      alice: user({ passwordHash: ALICE_HASH, authorizedKeys: [line(ALICE_KEY, "alice@laptop")] }),
      bob: user({ authorizedKeysFiles: ["/missing/bob", "/keys/bob"] }),
      carol: user({ passwordHash: ALICE_HASH, authorizedKeys: [line(RSA_KEY)] }),
    },
    auth: authOf({ anyUserKeysFiles }),
  };
}

/** An authenticator over an in-memory file system, with its logs and password checks recorded. */
function setup(cfg = config()) {
  const files = new Map<string, string>([
    ["/keys/bob", `# bob\n${line(BOB_KEY)}\n`],
    ["/keys/any", `${line(ANY_KEY, "shared")}\n`],
  ]);
  const reads: string[] = [];
  const verified: string[] = [];
  const logs: LogRecord[] = [];
  const authenticator = new Authenticator(cfg, {
    logger: createLogger({ level: "debug", sink: (record) => logs.push(record) }),
    readFile: (path) => {
      reads.push(path);
      const text = files.get(path);
      if (text === undefined) {
        return Promise.reject(new Deno.errors.NotFound(`No such file "${path}"`));
      }
      return Promise.resolve(text);
    },
    verifyPassword: (password, hash) => {
      verified.push(hash);
      return verifyPassword(password, hash);
    },
  });
  return { authenticator, files, reads, verified, logs };
}

Deno.test("Authenticator.checkPassword() accepts the right password only", async () => {
  const { authenticator, logs } = setup();
  assert.deepEqual(await authenticator.checkPassword("alice", "alice-pw"), {
    username: "alice",
    method: "password",
  });
  assert.equal(await authenticator.checkPassword("alice", "alice-PW"), null);
  assert.equal(await authenticator.checkPassword("alice", ""), null);
  assert.ok(!JSON.stringify(logs).includes("alice-"), "passwords are never logged");
});

Deno.test("Authenticator.checkPassword() spends a dummy scrypt check on users without a password", async (t) => {
  const { authenticator, verified } = setup();
  for (const name of ["nobody", "bob", "constructor", "__proto__", ""]) {
    await t.step(`"${name}"`, async () => {
      verified.length = 0;
      assert.equal(await authenticator.checkPassword(name, "alice-pw"), null);
      assert.equal(verified.length, 1, "exactly one scrypt verification");
      assert.notEqual(verified[0], ALICE_HASH);
      assert.equal(isValidPasswordHash(verified[0]!), true, "a real hash, so the cost is real");
    });
  }
  await t.step("the dummy hash is computed once", async () => {
    verified.length = 0;
    await authenticator.checkPassword("nobody", "x");
    await authenticator.checkPassword("someone", "y");
    assert.equal(verified.length, 2);
    assert.equal(verified[0], verified[1]);
  });
});

Deno.test("Authenticator accepts a user's own keys and nobody else's", async (t) => {
  const { authenticator } = setup(config([]));
  const cases: Array<[string, string, { algo: string; data: Uint8Array }, boolean]> = [
    ["inline key for its user", "alice", ALICE_KEY, true],
    ["key file for its user", "bob", BOB_KEY, true],
    ["alice's key for bob", "bob", ALICE_KEY, false],
    ["bob's key for alice", "alice", BOB_KEY, false],
    ["a stranger's key", "alice", STRANGER_KEY, false],
    ["a known key for an unknown user", "mallory", ALICE_KEY, false],
    ["the same blob under another type", "alice", { algo: "ssh-rsa", data: ALICE_KEY.data }, false],
    [
      "RSA key offered as rsa-sha2-256",
      "carol",
      { algo: "rsa-sha2-256", data: RSA_KEY.data },
      true,
    ],
    [
      "RSA key offered as rsa-sha2-512",
      "carol",
      { algo: "rsa-sha2-512", data: RSA_KEY.data },
      true,
    ],
  ];
  for (const [name, username, offered, accepted] of cases) {
    await t.step(name, async () => {
      assert.equal(await authenticator.acceptsKey(username, offered), accepted);
      const identity = await authenticator.identityForVerifiedKey(username, offered);
      assert.deepEqual(
        identity,
        accepted
          ? { username, method: "publickey", keyFingerprint: fingerprintSha256(offered.data) }
          : null,
      );
    });
  }
});

Deno.test("Authenticator accepts anyUserKeysFiles keys for any valid user name", async (t) => {
  const { authenticator } = setup();
  const names: Array<[string, boolean]> = [
    ["alice", true],
    ["zed", true],
    ["_svc", true],
    ["Build.Bot-2", true],
    ["a".repeat(32), true],
    ["a".repeat(33), false],
    ["9lives", false],
    ["-rf", false],
    ["two words", false],
    ["root;id", false],
    ["ünïcode", false],
    ["", false],
    ["zed\n", false],
  ];
  for (const [username, accepted] of names) {
    await t.step(JSON.stringify(username), async () => {
      assert.equal(await authenticator.acceptsKey(username, ANY_KEY), accepted);
      const identity = await authenticator.identityForVerifiedKey(username, ANY_KEY);
      assert.equal(identity?.username ?? null, accepted ? username : null);
    });
  }
  await t.step("only the shared file's keys", async () => {
    assert.equal(await authenticator.acceptsKey("zed", ALICE_KEY), false);
  });
});

Deno.test("Authenticator skips a missing key file and warns about an unreadable one", async () => {
  const { authenticator, logs } = setup(config([]));
  assert.equal(await authenticator.acceptsKey("bob", BOB_KEY), true);
  const missing = logs.find((record) => record.event === "auth.keys_file_missing");
  assert.equal(missing?.level, "debug");
  assert.equal(missing?.path, "/missing/bob");

  const failing = new Authenticator(config(["/keys/any"]), {
    logger: createLogger({ level: "debug", sink: (record) => logs.push(record) }),
    readFile: (path) => Promise.reject(new Deno.errors.PermissionDenied(`Denied "${path}"`)),
  });
  logs.length = 0;
  assert.equal(await failing.acceptsKey("zed", ANY_KEY), false);
  assert.deepEqual(logs.map((record) => [record.level, record.event, record.path]), [
    ["warn", "auth.keys_file_unreadable", "/keys/any"],
  ]);
});

Deno.test("Authenticator reads key files on every attempt", async () => {
  const { authenticator, files, reads } = setup(config([]));
  assert.equal(await authenticator.acceptsKey("bob", BOB_KEY), true);
  files.set("/keys/bob", line(STRANGER_KEY));
  assert.equal(await authenticator.acceptsKey("bob", BOB_KEY), false);
  assert.equal(await authenticator.acceptsKey("bob", STRANGER_KEY), true);
  assert.equal(reads.filter((path) => path === "/keys/bob").length, 3);
});

Deno.test("Authenticator logs bad authorized_keys lines without key material", async () => {
  const { authenticator, files, logs } = setup(config([]));
  const bad = Buffer.from(BOB_KEY.data).toString("base64");
  files.set("/keys/bob", `ssh-rsa ${bad}\nrestrict ${line(BOB_KEY)}\n`);
  assert.equal(await authenticator.acceptsKey("bob", BOB_KEY), true);
  const warnings = logs.filter((record) => record.event === "auth.authorized_keys_warning");
  assert.deepEqual(warnings.map((record) => [record.source, record.line]), [
    ["/keys/bob", 1],
    ["/keys/bob", 2],
  ]);
  assert.ok(!JSON.stringify(logs).includes(bad.slice(0, 20)));
});

Deno.test("Authenticator expands ~ in key file paths", async () => {
  const home = Deno.env.get("HOME");
  assert.ok(home, "HOME is set");
  const cfg = config(["~/keys/any"]);
  const { authenticator, files, reads } = setup(cfg);
  files.set(`${home}/keys/any`, line(ANY_KEY));
  assert.equal(await authenticator.acceptsKey("zed", ANY_KEY), true);
  assert.deepEqual(reads, [`${home}/keys/any`]);
});

Deno.test("Authenticator.methods() lists what the config enables", async (t) => {
  const cases: Array<[string, AuthenticatorConfig, string[]]> = [
    ["nothing", { users: { a: user({}) }, auth: authOf({ anyUserKeysFiles: [] }) }, []],
    ["password", {
      users: { a: user({ passwordHash: ALICE_HASH }) },
      auth: authOf({ anyUserKeysFiles: [] }),
    }, [
      "password",
    ]],
    ["inline key", {
      users: { a: user({ authorizedKeys: [line(ALICE_KEY)] }) },
      auth: authOf({ anyUserKeysFiles: [] }),
    }, [
      "publickey",
    ]],
    ["key file", {
      users: { a: user({ authorizedKeysFiles: ["/k"] }) },
      auth: authOf({ anyUserKeysFiles: [] }),
    }, [
      "publickey",
    ]],
    ["anyUserKeysFiles", { users: {}, auth: authOf({ anyUserKeysFiles: ["/k"] }) }, ["publickey"]],
    ["both", config(), ["publickey", "password"]],
  ];
  for (const [name, cfg, methods] of cases) {
    await t.step(name, () => {
      assert.deepEqual(new Authenticator(cfg).methods(), methods);
    });
  }
});

Deno.test("Authenticator.update() swaps users and auth settings", async () => {
  const { authenticator } = setup();
  assert.equal(await authenticator.acceptsKey("alice", ALICE_KEY), true);
  authenticator.update({ users: {}, auth: authOf({ anyUserKeysFiles: [] }) });
  assert.equal(await authenticator.acceptsKey("alice", ALICE_KEY), false);
  assert.equal(await authenticator.acceptsKey("zed", ANY_KEY), false);
  assert.equal(await authenticator.checkPassword("alice", "alice-pw"), null);
  assert.deepEqual(authenticator.methods(), []);
});
