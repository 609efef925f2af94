import assert from "node:assert/strict";
import { Admission, sourceOf } from "../../src/ssh/mod.ts";

const PENALTIES = { enabled: true, authFail: 5, noAuth: 1, loginTimeout: 10, min: 15, max: 600 };

function make(overrides: { random?: () => number; now?: () => number } = {}) {
  return new Admission({
    maxStartups: { start: 3, rate: 30, full: 6 },
    maxStartupsPerSource: 2,
    penalties: PENALTIES,
    random: overrides.random ?? (() => 0.99),
    now: overrides.now ?? (() => 0),
  });
}

Deno.test("Admission caps unauthenticated connections per source", () => {
  const admission = make();
  assert.equal(admission.admit("10.0.0.1"), undefined);
  assert.equal(admission.admit("10.0.0.1"), undefined);
  assert.equal(admission.admit("10.0.0.1"), "per-source");
  assert.equal(admission.admit("10.0.0.2"), undefined, "another source is unaffected");
  admission.authenticated("10.0.0.1");
  assert.equal(admission.admit("10.0.0.1"), undefined, "an authenticated connection frees a slot");
});

Deno.test("Admission drops at random between start and full, and always at full", async (t) => {
  await t.step("below start: always admitted", () => {
    const admission = make({ random: () => 0 });
    for (const ip of ["a", "b", "c"]) assert.equal(admission.admit(ip), undefined);
  });
  await t.step("at start: dropped with the rate's chance", () => {
    const lucky = make({ random: () => 0.31 });
    for (const ip of ["a", "b", "c"]) lucky.admit(ip);
    assert.equal(lucky.admit("d"), undefined, "31 >= 30%: admitted");
    const unlucky = make({ random: () => 0.29 });
    for (const ip of ["a", "b", "c"]) unlucky.admit(ip);
    assert.equal(unlucky.admit("d"), "max-startups");
  });
  await t.step("at full: always dropped", () => {
    const admission = make({ random: () => 0.9999 });
    for (const ip of ["a", "b", "c", "d", "e", "f"]) assert.equal(admission.admit(ip), undefined);
    assert.equal(admission.pending, 6);
    assert.equal(admission.admit("g"), "max-startups");
  });
});

Deno.test("Admission penalties add up, cap at max, refuse above min and decay", () => {
  let now = 0;
  const admission = make({ now: () => now });
  const ip = "192.0.2.7";
  for (let i = 0; i < 3; i++) admission.penalize(ip, "authFail");
  assert.equal(admission.penaltyOf(ip), 15_000);
  assert.equal(admission.admit(ip), undefined, "exactly min is still admitted");
  admission.closed(ip);
  admission.penalize(ip, "noAuth");
  assert.equal(admission.admit(ip), "penalty");
  now += 2_000;
  assert.equal(admission.penaltyOf(ip), 14_000);
  assert.equal(admission.admit(ip), undefined, "decayed below min");
  for (let i = 0; i < 500; i++) admission.penalize(ip, "loginTimeout");
  assert.equal(admission.penaltyOf(ip), 600_000, "capped at max");
});

Deno.test("Admission with penalties disabled never refuses for them", () => {
  const admission = new Admission({
    maxStartups: { start: 10, rate: 30, full: 100 },
    maxStartupsPerSource: 10,
    penalties: { ...PENALTIES, enabled: false },
  });
  for (let i = 0; i < 10; i++) admission.penalize("x", "authFail");
  assert.equal(admission.admit("x"), undefined);
});

Deno.test("sourceOf() counts IPv4 per address and IPv6 per /64", async (t) => {
  const cases: [string, string][] = [
    ["127.0.0.1", "127.0.0.1"],
    ["::ffff:10.1.2.3", "10.1.2.3"],
    ["2001:db8:1:2:3:4:5:6", "2001:db8:1:2::/64"],
    ["2001:db8:1:2::9", "2001:db8:1:2::/64"],
    ["::1", "0:0:0:0::/64"],
  ];
  for (const [address, source] of cases) {
    await t.step(address, () => assert.equal(sourceOf(address), source));
  }
});
