import assert from "node:assert/strict";
import {
  Authenticator,
  base32Decode,
  constantTimeEqual,
  hotp,
  type SecondFactor,
  TOTP_PROMPT,
  TotpFactor,
} from "../../src/auth/mod.ts";
import type { UserConfig } from "../../src/config/types.ts";
import { createLogger, type LogRecord } from "../../src/log/mod.ts";

const SECRET = "GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ"; // "12345678901234567890"
const KEY = base32Decode(SECRET)!;
const STEP = 56_000_000; // some step in 2023
const AT = STEP * 30_000 + 12_000; // 12 s into it

const user = (fields: Partial<UserConfig>): UserConfig => ({
  authorizedKeys: [],
  authorizedKeysFiles: [],
  container: {},
  ...fields,
});

/** A TOTP factor over fixed users, a settable clock and an in-memory file system. */
function setup() {
  const clock = { now: AT };
  const logs: LogRecord[] = [];
  const compared: string[] = [];
  const users: Record<string, UserConfig> = {
    alice: user({ totpSecret: SECRET }),
    bob: user({ totpSecretFile: "/secrets/bob" }),
    carol: user({ totpSecretFile: "/secrets/missing" }),
    dave: user({ totpSecretFile: "/secrets/garbage" }),
    erin: user({}),
  };
  const files = new Map([["/secrets/bob", `${SECRET}\n`], ["/secrets/garbage", "not base32!"]]);
  const factor = new TotpFactor({
    userOf: (name) => users[name],
    readFile: (path) => {
      const text = files.get(path);
      return text === undefined
        ? Promise.reject(new Deno.errors.NotFound(`No such file "${path}"`))
        : Promise.resolve(text);
    },
    now: () => clock.now,
    logger: createLogger({ level: "debug", sink: (record) => logs.push(record) }),
    equal: (a, b) => {
      compared.push(new TextDecoder().decode(a));
      return constantTimeEqual(a, b);
    },
  });
  return { factor, clock, logs, compared };
}

const code = (step: number) => hotp(KEY, step);

Deno.test("TotpFactor is required only of users with a secret", () => {
  const { factor } = setup();
  for (const name of ["alice", "bob", "carol", "dave"]) {
    assert.equal(factor.required({ username: name, method: "password" }), true, name);
  }
  assert.equal(factor.required({ username: "erin", method: "password" }), false);
  assert.equal(factor.required({ username: "nobody", method: "publickey" }), false);
});

Deno.test("TotpFactor accepts the code of this step and one either side, no further", async (t) => {
  const cases: [number, boolean][] = [[0, true], [-1, true], [1, true], [-2, false], [2, false]];
  for (const [offset, accepted] of cases) {
    await t.step(`step ${offset > 0 ? "+" : ""}${offset}`, async () => {
      const { factor } = setup();
      const outcome = await factor.verify("alice", code(STEP + offset));
      assert.equal(outcome.result, accepted ? "accepted" : "refused");
    });
  }
});

Deno.test("TotpFactor refuses a code used before, and older steps after a newer one", async () => {
  const { factor, clock } = setup();
  assert.deepEqual(await factor.verify("alice", code(STEP)), { result: "accepted" });
  assert.deepEqual(await factor.verify("alice", code(STEP)), {
    result: "refused",
    reason: "TOTP code already used",
  });
  // The previous step's code is still in the window, but older than the one used.
  assert.equal((await factor.verify("alice", code(STEP - 1))).result, "refused");
  // The next step's code is new.
  assert.equal((await factor.verify("alice", code(STEP + 1))).result, "accepted");
  clock.now += 30_000;
  assert.equal((await factor.verify("alice", code(STEP + 1))).result, "refused");
  clock.now += 30_000;
  assert.equal((await factor.verify("alice", code(STEP + 2))).result, "accepted");
});

Deno.test("TotpFactor remembers the used steps per user", async () => {
  const { factor } = setup();
  assert.equal((await factor.verify("alice", code(STEP))).result, "accepted");
  // bob has the same secret (from a file): alice's login does not use up his code.
  assert.equal((await factor.verify("bob", code(STEP))).result, "accepted");
});

Deno.test("TotpFactor refuses wrong and malformed codes", async () => {
  const { factor } = setup();
  const right = code(STEP);
  const wrong = String((Number(right) + 1) % 1_000_000).padStart(6, "0");
  for (const typed of [wrong, "", "12345", "1234567", "abcdef"]) {
    assert.deepEqual(await factor.verify("alice", typed), {
      result: "refused",
      reason: "wrong TOTP code",
    });
  }
  // Blanks around the code, as some clients send them, are fine.
  assert.equal((await factor.verify("alice", ` ${right}\n`)).result, "accepted");
});

Deno.test("TotpFactor reads secret files at each login; a bad one refuses without showing it", async () => {
  const { factor, logs } = setup();
  assert.equal((await factor.verify("bob", code(STEP))).result, "accepted");
  assert.equal((await factor.verify("carol", code(STEP))).result, "refused");
  assert.equal((await factor.verify("dave", code(STEP))).result, "refused");
  assert.deepEqual(logs.map((r) => [r.event, r["user"], r["path"]]), [
    ["auth.totp_secret_unreadable", "carol", "/secrets/missing"],
    ["auth.totp_secret_invalid", "dave", "/secrets/garbage"],
  ]);
  assert.doesNotMatch(JSON.stringify(logs), /not base32|GEZDG/);
});

Deno.test("TotpFactor refuses a user without a secret after the same work", async () => {
  const { factor, compared } = setup();
  const typed = code(STEP);
  // Every case compares the code with three steps' codes: a user with no secret
  // (or no user at all) against a random secret, and a wrong code as a right one.
  const cases: [string, string, string][] = [
    ["alice", typed, "accepted"],
    ["alice", "999999", "refused"],
    ["carol", typed, "refused"],
    ["erin", typed, "refused"],
    ["nobody", typed, "refused"],
  ];
  for (const [name, given, result] of cases) {
    compared.length = 0;
    assert.equal((await factor.verify(name, given)).result, result, name);
    assert.deepEqual(compared, [given, given, given], name);
  }
  assert.deepEqual(await factor.verify("nobody", typed), {
    result: "refused",
    reason: "no usable TOTP secret",
  });
});

Deno.test("TotpFactor.challenge() asks one code without echo and checks the answer", async () => {
  const { factor } = setup();
  const challenge = await factor.challenge({ username: "alice", method: "publickey" });
  assert.deepEqual(challenge.prompts, [{ prompt: TOTP_PROMPT, echo: false }]);
  assert.equal((await challenge.answer(["000000"])).result, "refused");
  assert.equal((await challenge.answer([code(STEP)])).result, "accepted");
  assert.equal((await challenge.answer([])).result, "refused");
});

Deno.test("Authenticator.secondFactorsFor() lists TOTP for users with a secret, then the others", () => {
  const extra: SecondFactor = {
    name: "webhook",
    required: (identity) => identity.username !== "erin",
    challenge: () => Promise.reject(new Error("not asked here")),
  };
  const authenticator = new Authenticator({
    users: { alice: user({ totpSecret: SECRET }), erin: user({}) },
    auth: {
      anyUserKeysFiles: [],
      trustedUserCAKeys: [],
      revokedCertificates: { serials: [], keys: [] },
      principalProfiles: {},
    },
  }, { secondFactors: [extra] });
  const names = (username: string) =>
    authenticator.secondFactorsFor({ username, method: "password" }).map((f) => f.name);
  assert.deepEqual(names("alice"), ["totp", "webhook"]);
  assert.deepEqual(names("erin"), []);
  assert.deepEqual(names("zed"), ["webhook"]);
  // keyboard-interactive is never offered as a first method.
  assert.deepEqual(authenticator.methods(), []);
});

Deno.test("Authenticator's TOTP follows a reload and keeps the used steps", async () => {
  const clock = { now: AT };
  const auth = {
    anyUserKeysFiles: [],
    trustedUserCAKeys: [],
    revokedCertificates: { serials: [], keys: [] },
    principalProfiles: {},
  };
  const authenticator = new Authenticator({ users: { alice: user({}) }, auth }, {
    now: () => clock.now,
  });
  const alice = { username: "alice", method: "password" } as const;
  assert.equal(authenticator.secondFactorsFor(alice).length, 0);
  authenticator.update({ users: { alice: user({ totpSecret: SECRET }) }, auth });
  const [totp] = authenticator.secondFactorsFor(alice);
  assert.ok(totp);
  assert.equal((await (await totp.challenge(alice)).answer([code(STEP)])).result, "accepted");
  authenticator.update({ users: { alice: user({ totpSecret: SECRET }) }, auth });
  const [again] = authenticator.secondFactorsFor(alice);
  assert.equal((await (await again!.challenge(alice)).answer([code(STEP)])).result, "refused");
});
