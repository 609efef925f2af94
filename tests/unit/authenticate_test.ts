import assert from "node:assert/strict";
// @ts-types="@types/ssh2"
import ssh2 from "ssh2";
// @ts-types="@types/ssh2"
import type { AuthContext } from "ssh2";
import { Buffer } from "node:buffer";
import type { Authenticator, Identity, OfferedKey } from "../../src/auth/mod.ts";
import { createLogger, type LogRecord } from "../../src/log/mod.ts";
import { type AuthDecision, authenticate } from "../../src/ssh/authenticate.ts";
import { generateHostKey } from "../../src/ssh/mod.ts";

const PASSWORD = "right-password";

/** Answers as configured and records what it was asked. */
class FakeAuthenticator {
  calls: string[] = [];
  /** Whether alice's key is authorized. */
  keyAuthorized = true;
  /** Makes every method throw. */
  fail: Error | undefined;

  checkPassword(username: string, password: string): Promise<Identity | null> {
    this.calls.push(`checkPassword ${username}`);
    if (this.fail) return Promise.reject(this.fail);
    return Promise.resolve(password === PASSWORD ? { username, method: "password" } : null);
  }

  acceptsKey(username: string, _key: OfferedKey): Promise<boolean> {
    this.calls.push(`acceptsKey ${username}`);
    if (this.fail) return Promise.reject(this.fail);
    return Promise.resolve(this.keyAuthorized);
  }

  identityForVerifiedKey(username: string, _key: OfferedKey): Promise<Identity | null> {
    this.calls.push(`identityForVerifiedKey ${username}`);
    if (this.fail) return Promise.reject(this.fail);
    return Promise.resolve(
      this.keyAuthorized ? { username, method: "publickey", keyFingerprint: "SHA256:fake" } : null,
    );
  }
}

/** A key pair as ssh2 parses it, to sign with. */
function makeKey() {
  const key = ssh2.utils.parseKey(generateHostKey("ed25519").privateKey);
  if (key instanceof Error) throw key;
  return key;
}
const ALICE_KEY = makeKey();
const OTHER_KEY = makeKey();
const BLOB = Buffer.from("session id and USERAUTH_REQUEST fields");

/**
 * An ssh2 authentication context with only the fields `authenticate` reads.
 * The real one is an EventEmitter with accept/reject, which `authenticate`
 * never calls (its caller answers), hence the cast.
 */
function fakeCtx(fields: Record<string, unknown>): AuthContext {
  return { username: "alice", service: "ssh-connection", ...fields } as unknown as AuthContext;
}

const offered = (key = ALICE_KEY) => ({ algo: key.type, data: key.getPublicSSH() });

/** A publickey request signed by `signer` over BLOB, offering `key`. */
const signed = (signer = ALICE_KEY, key = ALICE_KEY) =>
  fakeCtx({ method: "publickey", key: offered(key), blob: BLOB, signature: signer.sign(BLOB) });

async function decide(ctx: AuthContext, authenticator = new FakeAuthenticator()) {
  const logs: LogRecord[] = [];
  const logger = createLogger({ level: "debug", sink: (record) => logs.push(record) });
  // Authenticator's private fields make a structural fake need a cast; only
  // the three methods above are called.
  const decision: AuthDecision = await authenticate(
    ctx,
    authenticator as unknown as Authenticator,
    logger,
    "127.0.0.1",
  );
  return { decision, logs, calls: authenticator.calls };
}

Deno.test("authenticate() accepts the right password with the authenticator's identity", async () => {
  const { decision, logs } = await decide(fakeCtx({ method: "password", password: PASSWORD }));
  assert.deepEqual(decision, {
    accept: true,
    identity: { username: "alice", method: "password" },
  });
  assert.ok(!JSON.stringify(logs).includes(PASSWORD));
});

Deno.test("authenticate() refuses a wrong password; the attempt counts and the password is not logged", async () => {
  const { decision, logs } = await decide(fakeCtx({ method: "password", password: "guess-123" }));
  assert.deepEqual(decision, { accept: false, counts: true });
  assert.deepEqual(logs.map(({ ts: _ts, ...r }) => r), [
    {
      level: "info",
      event: "auth.rejected",
      user: "alice",
      method: "password",
      reason: "wrong user or password",
    },
  ]);
  assert.ok(!JSON.stringify(logs).includes("guess-123"));
});

Deno.test("authenticate() refuses a user name useradd would refuse, before asking the authenticator", async (t) => {
  for (const username of ["../etc", "al ice", "-alice", "a".repeat(33), "", "root\0"]) {
    await t.step(JSON.stringify(username), async () => {
      const { decision, logs, calls } = await decide(
        fakeCtx({ username, method: "password", password: PASSWORD }),
      );
      assert.deepEqual(decision, { accept: false, counts: true });
      assert.deepEqual(calls, []);
      assert.equal(logs[0]?.reason, "invalid user name");
    });
  }
  await t.step("a long name is logged cut at 64 characters", async () => {
    const { logs } = await decide(fakeCtx({ username: "b".repeat(500), method: "none" }));
    assert.equal(logs[0]?.user, "b".repeat(64));
  });
});

Deno.test("authenticate() answers a key query without a signature but never with an identity", async (t) => {
  await t.step("an authorized key: accepted, no identity", async () => {
    const { decision, calls } = await decide(fakeCtx({ method: "publickey", key: offered() }));
    assert.deepEqual(decision, { accept: true, identity: undefined });
    assert.deepEqual(calls, ["acceptsKey alice"]);
  });
  await t.step("an unknown key: refused, and the query does not count", async () => {
    const authenticator = new FakeAuthenticator();
    authenticator.keyAuthorized = false;
    const { decision, logs } = await decide(
      fakeCtx({ method: "publickey", key: offered() }),
      authenticator,
    );
    assert.deepEqual(decision, { accept: false, counts: false });
    assert.equal(logs[0]?.reason, "key not authorized");
  });
  await t.step("a blob without a signature is still only a query", async () => {
    const { decision, calls } = await decide(
      fakeCtx({ method: "publickey", key: offered(), blob: BLOB }),
    );
    assert.deepEqual(decision, { accept: true, identity: undefined });
    assert.deepEqual(calls, ["acceptsKey alice"]);
  });
});

Deno.test("authenticate() gives an identity for a key only once its signature verifies", async (t) => {
  await t.step("signed by the offered key: the authenticator's identity", async () => {
    const { decision, calls } = await decide(signed());
    assert.deepEqual(decision, {
      accept: true,
      identity: { username: "alice", method: "publickey", keyFingerprint: "SHA256:fake" },
    });
    assert.deepEqual(calls, ["identityForVerifiedKey alice"]);
  });
  await t.step("signed by another key: refused before the authenticator is asked", async () => {
    const { decision, logs, calls } = await decide(signed(OTHER_KEY, ALICE_KEY));
    assert.deepEqual(decision, { accept: false, counts: true });
    assert.equal(logs[0]?.reason, "bad signature");
    assert.deepEqual(calls, []);
  });
  await t.step("a signature over other data: refused", async () => {
    const { decision, calls } = await decide(
      fakeCtx({
        method: "publickey",
        key: offered(),
        blob: BLOB,
        signature: ALICE_KEY.sign(Buffer.from("something else")),
      }),
    );
    assert.deepEqual(decision, { accept: false, counts: true });
    assert.deepEqual(calls, []);
  });
  await t.step("a verified key that is not authorized: refused", async () => {
    const authenticator = new FakeAuthenticator();
    authenticator.keyAuthorized = false;
    const { decision, logs } = await decide(signed(), authenticator);
    assert.deepEqual(decision, { accept: false, counts: true });
    assert.equal(logs[0]?.reason, "key not authorized");
  });
  await t.step("key bytes that do not parse: refused", async () => {
    const { decision, logs, calls } = await decide(
      fakeCtx({
        method: "publickey",
        key: { algo: "ssh-ed25519", data: Buffer.from("not a key") },
        blob: BLOB,
        signature: ALICE_KEY.sign(BLOB),
      }),
    );
    assert.deepEqual(decision, { accept: false, counts: true });
    assert.equal(logs[0]?.reason, "unparsable key");
    assert.deepEqual(calls, []);
  });
});

Deno.test("authenticate() refuses RSA signatures made with SHA-1", async (t) => {
  for (const hashAlgo of [undefined, "sha1"]) {
    await t.step(String(hashAlgo), async () => {
      const { decision, logs, calls } = await decide(fakeCtx({
        method: "publickey",
        key: { algo: "ssh-rsa", data: Buffer.from("rsa key bytes") },
        blob: BLOB,
        signature: Buffer.from("rsa signature"),
        ...(hashAlgo ? { hashAlgo } : {}),
      }));
      assert.deepEqual(decision, { accept: false, counts: true });
      assert.equal(logs[0]?.reason, "RSA signature with SHA-1");
      assert.deepEqual(calls, []);
    });
  }
});

Deno.test("authenticate() refuses other methods: none does not count, the rest do", async (t) => {
  const cases: [string, boolean, string][] = [
    ["none", false, "method none"],
    ["keyboard-interactive", true, "method not enabled"],
    ["hostbased", true, "method not enabled"],
  ];
  for (const [method, counts, reason] of cases) {
    await t.step(method, async () => {
      const { decision, logs, calls } = await decide(fakeCtx({ method }));
      assert.deepEqual(decision, { accept: false, counts });
      assert.equal(logs[0]?.reason, reason);
      assert.deepEqual(calls, []);
    });
  }
});

Deno.test("authenticate() refuses, counts and logs an error when the authenticator throws", async () => {
  const authenticator = new FakeAuthenticator();
  authenticator.fail = new Error("cannot read /keys/alice");
  const { decision, logs } = await decide(
    fakeCtx({ method: "password", password: PASSWORD }),
    authenticator,
  );
  assert.deepEqual(decision, { accept: false, counts: true });
  assert.deepEqual(logs.map(({ ts: _ts, ...r }) => r), [
    {
      level: "error",
      event: "auth.error",
      user: "alice",
      method: "password",
      error: "cannot read /keys/alice",
    },
  ]);
  assert.ok(!JSON.stringify(logs).includes(PASSWORD));
});
