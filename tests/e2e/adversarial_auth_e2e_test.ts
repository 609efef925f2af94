/**
 * Adversarial end to end, authentication: hand-made USERAUTH requests
 * (paramiko under /usr/bin/python3) against the real capsule process.
 */
import assert from "node:assert/strict";
import {
  adversarialStep,
  connectionIdOf,
  eventually,
  logEvents,
  makeKey,
  runAttack,
  SourceAddresses,
  type Target,
} from "../helpers/adversary.ts";
import { startDemoCapsule } from "../helpers/demo_capsule.ts";
import { assertNoContainersLeft, requireEngine } from "../helpers/docker.ts";

interface Reply {
  reply: string;
  ms?: number;
  methods?: string;
}

interface KeySwapReport {
  fingerprints: Record<"A" | "B" | "C" | "R" | "D", string>;
  scenarios: Record<string, { local: string; steps: Reply[] }>;
}

const median = (values: number[]) => {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = sorted.length >> 1;
  return sorted.length % 2 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2;
};

Deno.test("adversarial end to end: authentication", async (t) => {
  await requireEngine();
  const keysDir = await Deno.makeTempDir({ prefix: "capsule-adv-keys-" });
  const a = await makeKey(keysDir, "key_a");
  const b = await makeKey(keysDir, "key_b");
  const c = await makeKey(keysDir, "key_c");
  const r = await makeKey(keysDir, "key_r", "rsa");
  const d = await makeKey(keysDir, "key_d");
  await Deno.writeTextFile(`${keysDir}/any_user_keys`, `${d.pub}\n`);
  const { capsule, login } = await startDemoCapsule({
    config: {
      auth: { anyUserKeysFiles: [`${keysDir}/any_user_keys`] },
      users: {
        alice: { authorizedKeys: [a.pub] },
        bob: { authorizedKeys: [b.pub] },
        carol: { authorizedKeys: [r.pub] },
      },
    },
  });
  const target: Target = { capsule, login, sources: new SourceAddresses(100, 199) };
  const step = (name: string, fn: () => Promise<void>) =>
    adversarialStep(t, () => target, name, fn);

  /** auth.accepted records logged on the connection of client socket `local`. */
  const acceptedOn = (local: string) => {
    const id = connectionIdOf(capsule, local);
    assert.ok(id, `no connection.open logged for ${local}`);
    return logEvents(capsule, "auth.accepted", { connection: id });
  };

  try {
    await step("a key query cannot lend its identity to another key's signature", async () => {
      const report = await runAttack<KeySwapReport>("key_swap.py", [
        capsule.port,
        target.sources.next(),
        a.file,
        b.file,
        c.file,
        r.file,
        d.file,
      ]);
      const { scenarios, fingerprints } = report;
      // Every scenario's connection is logged through to its close before we judge.
      await eventually(
        () =>
          Object.values(scenarios).every(({ local }) => {
            const id = connectionIdOf(capsule, local);
            return id !== undefined &&
              logEvents(capsule, "connection.close", { connection: id }).length > 0;
          }),
        () => "not every scenario's connection was logged open and closed",
      );
      const replies = (name: string) => {
        const scenario = scenarios[name];
        assert.ok(scenario, `scenario ${name} missing: ${JSON.stringify(report)}`);
        return scenario.steps.map((s) => s.reply);
      };
      const context = (name: string) => `${name}: ${JSON.stringify(scenarios[name])}`;
      const expectNoLogin = (name: string) =>
        assert.deepEqual(acceptedOn(scenarios[name]!.local), [], `${name} logged in`);
      const expectLogin = (name: string, user: string, fingerprint: string) => {
        const accepted = acceptedOn(scenarios[name]!.local);
        assert.equal(accepted.length, 1, `${name}: ${JSON.stringify(accepted)}`);
        assert.equal(accepted[0]!.user, user, `${name}: the identity is ${user}`);
        assert.equal(accepted[0]!.fingerprint, fingerprint, `${name}: the key that signed`);
      };

      for (const name of ["query A, sign C as alice", "query A, sign B as alice"]) {
        assert.deepEqual(replies(name), ["pk_ok", "failure"], context(name));
        expectNoLogin(name);
      }
      assert.deepEqual(replies("query A, offer A signed by B"), ["pk_ok", "failure"]);
      expectNoLogin("query A, offer A signed by B");

      // Changing the user name mid-connection may be refused outright (OpenSSH
      // and ssh2 disconnect); if it is served, the identity is bob's, never alice's.
      const renamed = "query A as alice, sign B as bob";
      const [queried, signed] = replies(renamed);
      assert.equal(queried, "pk_ok", context(renamed));
      if (signed === "success") expectLogin(renamed, "bob", fingerprints.B);
      else {
        assert.ok(signed === "closed" || signed === "failure", context(renamed));
        expectNoLogin(renamed);
      }

      assert.deepEqual(replies("query A, sign A as alice"), ["pk_ok", "success"]);
      expectLogin("query A, sign A as alice", "alice", fingerprints.A);

      const queryOnly = replies("query A, then none");
      assert.deepEqual(queryOnly.slice(0, 2), ["pk_ok", "failure"], context("query A, then none"));
      assert.notEqual(queryOnly[2], "channel opened", context("query A, then none"));
      expectNoLogin("query A, then none");

      assert.deepEqual(
        replies("rsa ssh-rsa then rsa-sha2-256"),
        ["failure", "success"],
        `an SHA-1 RSA signature is refused, SHA-256 works: ${
          context("rsa ssh-rsa then rsa-sha2-256")
        }`,
      );
      expectLogin("rsa ssh-rsa then rsa-sha2-256", "carol", fingerprints.R);
      assert.deepEqual(replies("rsa rsa-sha2-512"), ["success"], context("rsa rsa-sha2-512"));

      assert.deepEqual(replies("none and hostbased"), ["failure", "failure"]);
      expectNoLogin("none and hostbased");

      assert.deepEqual(replies("any-user key as valid_name"), ["success"]);
      expectLogin("any-user key as valid_name", "valid_name", fingerprints.D);
      const badNames = Object.keys(scenarios).filter((n) =>
        n.startsWith("any-user key as ") && n !== "any-user key as valid_name"
      );
      assert.equal(badNames.length, 7);
      for (const name of badNames) {
        assert.deepEqual(replies(name), ["failure"], `malformed user name: ${context(name)}`);
        expectNoLogin(name);
      }
    });

    await step(
      "a wrong password costs the same for known, unknown and key-only users",
      async () => {
        const tries = 100;
        const report = await runAttack<
          { ms: Record<string, number[]>; replies: Record<string, string[]> }
        >(
          "auth_timing.py",
          [
            capsule.port,
            target.sources.next(),
            tries,
            "known=demo",
            "unknown=ghost_user",
            "keyonly=alice",
          ],
          120_000,
        );
        const medians = Object.fromEntries(
          Object.entries(report.ms).map(([kind, ms]) => [kind, median(ms)]),
        );
        const context = `medians (ms): ${JSON.stringify(medians)}; replies: ${
          JSON.stringify(report.replies)
        }`;
        for (const kind of ["known", "unknown", "keyonly"]) {
          assert.equal(report.ms[kind]?.length, tries, context);
          assert.equal(report.replies[kind]?.length, 1, `one kind of reply: ${context}`);
          assert.match(report.replies[kind]![0]!, /^failure /, context);
        }
        // The replies are the same, byte for byte, whoever the user is.
        assert.deepEqual(report.replies.unknown, report.replies.known, context);
        assert.deepEqual(report.replies.keyonly, report.replies.known, context);
        assert.ok(Math.abs(medians.known! - medians.unknown!) < 5, context);
        assert.ok(Math.abs(medians.known! - medians.keyonly!) < 5, context);
      },
    );
  } finally {
    const code = await capsule.stop();
    await Deno.remove(keysDir, { recursive: true });
    assert.equal(code, 0, "capsule exits 0 on SIGTERM");
    await assertNoContainersLeft(15_000, capsule.instance);
  }
});
