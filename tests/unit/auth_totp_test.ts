import assert from "node:assert/strict";
import {
  base32Decode,
  base32Encode,
  constantTimeEqual,
  hotp,
  matchingSteps,
  newTotpSecret,
  otpauthUri,
  totp,
  totpStep,
} from "../../src/auth/mod.ts";

// RFC 6238, appendix B: the SHA-1 seed is the ASCII of "12345678901234567890".
const RFC_SEED = new TextEncoder().encode("12345678901234567890");

Deno.test("totp() gives RFC 6238's SHA-1 test vectors", async (t) => {
  const vectors: [number, string][] = [
    [59, "94287082"],
    [1111111109, "07081804"],
    [1111111111, "14050471"],
    [1234567890, "89005924"],
    [2000000000, "69279037"],
    [20000000000, "65353130"],
  ];
  for (const [seconds, code] of vectors) {
    await t.step(`T = ${seconds}`, () => {
      assert.equal(totp(RFC_SEED, seconds * 1000, 8), code);
      // Six digits are the last six of the eight.
      assert.equal(totp(RFC_SEED, seconds * 1000), code.slice(2));
    });
  }
});

Deno.test("hotp() gives RFC 4226's test values", () => {
  const expected = [
    "755224",
    "287082",
    "359152",
    "969429",
    "338314",
    "254676",
    "287922",
    "162583",
    "399871",
    "520489",
  ];
  assert.deepEqual(expected.map((_, counter) => hotp(RFC_SEED, counter)), expected);
  assert.throws(() => hotp(RFC_SEED, -1), RangeError);
});

Deno.test("totpStep() counts 30 s steps from the Unix epoch", () => {
  assert.equal(totpStep(0), 0);
  assert.equal(totpStep(29_999), 0);
  assert.equal(totpStep(30_000), 1);
  assert.equal(totpStep(59_000), 1);
});

Deno.test("matchingSteps() finds the step a code belongs to, and only well-formed codes", () => {
  const steps = [9, 10, 11];
  assert.deepEqual(matchingSteps(RFC_SEED, hotp(RFC_SEED, 10), steps), [10]);
  assert.deepEqual(matchingSteps(RFC_SEED, hotp(RFC_SEED, 9), steps), [9]);
  assert.deepEqual(matchingSteps(RFC_SEED, hotp(RFC_SEED, 11), steps), [11]);
  assert.deepEqual(matchingSteps(RFC_SEED, hotp(RFC_SEED, 12), steps), []);
  assert.deepEqual(matchingSteps(RFC_SEED, hotp(RFC_SEED, 8), steps), []);
  const right = hotp(RFC_SEED, 10);
  for (const wrong of ["", right.slice(0, 5), `${right}0`, ` ${right.slice(1)}`, "abcdef"]) {
    assert.deepEqual(matchingSteps(RFC_SEED, wrong, steps), [], JSON.stringify(wrong));
  }
});

Deno.test("matchingSteps() compares every step at full length, with no early exit", async (t) => {
  const steps = [100, 101, 102];
  const cases: [string, string][] = [
    ["a match on the first step", hotp(RFC_SEED, 100)],
    ["a match on the last step", hotp(RFC_SEED, 102)],
    ["no match", "000000"],
    ["too short", "12"],
    ["too long", "1234567890"],
    ["not digits", "abcdef"],
  ];
  for (const [name, code] of cases) {
    await t.step(name, () => {
      const compared: [number, number][] = [];
      matchingSteps(RFC_SEED, code, steps, {
        equal: (a, b) => {
          compared.push([a.length, b.length]);
          return constantTimeEqual(a, b);
        },
      });
      assert.deepEqual(compared, [[6, 6], [6, 6], [6, 6]]);
    });
  }
});

Deno.test("constantTimeEqual() compares bytes", () => {
  const bytes = (text: string) => new TextEncoder().encode(text);
  assert.equal(constantTimeEqual(bytes("123456"), bytes("123456")), true);
  assert.equal(constantTimeEqual(bytes("123456"), bytes("123457")), false);
  assert.equal(constantTimeEqual(bytes("123456"), bytes("12345")), false);
});

Deno.test("base32 round-trips and decodes what apps write", async (t) => {
  const text = new TextEncoder();
  // RFC 4648, section 10.
  const vectors: [string, string][] = [
    ["", ""],
    ["f", "MY"],
    ["fo", "MZXQ"],
    ["foo", "MZXW6"],
    ["foob", "MZXW6YQ"],
    ["fooba", "MZXW6YTB"],
    ["foobar", "MZXW6YTBOI"],
  ];
  for (const [plain, encoded] of vectors) {
    await t.step(JSON.stringify(plain), () => {
      assert.equal(base32Encode(text.encode(plain)), encoded);
      assert.deepEqual(base32Decode(encoded), text.encode(plain));
    });
  }
  await t.step("lower case, padding and groups of four", () => {
    assert.deepEqual(base32Decode("mzxw 6ytb oi======"), text.encode("foobar"));
  });
  await t.step("not base32: other letters, impossible lengths", () => {
    for (const bad of ["MZXW1", "MZX!", "M", "MZX", "MZXW6Y"]) {
      assert.equal(base32Decode(bad), null, bad);
    }
  });
});

Deno.test("newTotpSecret() makes 160 random bits, base32", () => {
  const a = newTotpSecret();
  const b = newTotpSecret();
  assert.match(a, /^[A-Z2-7]{32}$/);
  assert.equal(base32Decode(a)?.length, 20);
  assert.notEqual(a, b);
});

Deno.test("otpauthUri() writes the Key Uri Format apps import", () => {
  assert.equal(
    otpauthUri("JBSWY3DPEHPK3PXP", "alice", "capsule"),
    "otpauth://totp/capsule:alice?secret=JBSWY3DPEHPK3PXP&issuer=capsule&algorithm=SHA1&digits=6&period=30",
  );
  assert.equal(
    otpauthUri("JBSWY3DPEHPK3PXP", "bob", "My Host"),
    "otpauth://totp/My%20Host:bob?secret=JBSWY3DPEHPK3PXP&issuer=My%20Host&algorithm=SHA1&digits=6&period=30",
  );
});
