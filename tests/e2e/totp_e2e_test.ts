/**
 * End to end: a TOTP second factor with secrets from `capsule totp-secret`
 * and codes from Debian's `oathtool`: key + code with OpenSSH, password +
 * code with paramiko and asyncssh, wrong, replayed and stale codes refused
 * and counted (maxAuthTries, the per-source penalty), a user without a
 * secret as before, and no password, secret or code in the log.
 */
import assert from "node:assert/strict";
import { PYTHON } from "../helpers/adversary.ts";
import { DEMO_PASSWORD, demoPasswordHash, startDemoCapsule } from "../helpers/demo_capsule.ts";
import { assertNoContainersLeft, requireEngine } from "../helpers/docker.ts";
import { run } from "../helpers/file_clients.ts";
import { ssh, sshBaseArgs } from "../helpers/ssh_client.ts";

const ROOT = new URL("../../", import.meta.url).pathname;
const PYTHON_CLIENT = new URL("./clients/totp_login.py", import.meta.url).pathname;

/** A new secret from the real `capsule totp-secret`, checked against its otpauth URI. */
async function totpSecret(user: string): Promise<string> {
  // The permissions of `deno task start`, as for the server.
  const permissions = [
    "--allow-net",
    "--allow-read",
    "--allow-write",
    "--allow-env",
    "--allow-sys",
  ];
  const out = await run(
    [Deno.execPath(), "run", ...permissions, `${ROOT}main.ts`, "totp-secret", user],
    { env: { NO_COLOR: "1" } },
  );
  assert.equal(out.code, 0, out.stderr);
  const [secret, uri] = out.stdout.trim().split("\n");
  assert.match(secret!, /^[A-Z2-7]{32}$/);
  assert.equal(new URL(uri!).searchParams.get("secret"), secret);
  return secret!;
}

/** The code oathtool makes for `secret`, `offset` steps of 30 s from now. */
async function oathtool(secret: string, offset = 0): Promise<string> {
  const at = Math.floor(Date.now() / 1000) + offset * 30;
  const out = await run(["oathtool", "--totp", "-b", "-N", `@${at}`, secret]);
  assert.equal(out.code, 0, out.stderr);
  assert.match(out.stdout, /^\d{6}\n$/);
  return out.stdout.trim();
}

/** The last JSON line a Python client printed. */
function report(out: { stdout: string; stderr: string }): Record<string, unknown> {
  const last = out.stdout.trim().split("\n").at(-1);
  assert.ok(last, `no report: ${out.stderr}`);
  return JSON.parse(last);
}

/** OpenSSH with the key `key`, and sshpass answering its "Verification code" prompt with `totp`. */
function keyAndCodeCommand(
  port: number,
  key: string,
  user: string,
  totp: string,
  command: string,
  extra: string[] = [],
): string[] {
  return [
    "sshpass",
    "-P",
    "Verification code",
    "-p",
    totp,
    "ssh",
    ...sshBaseArgs(port),
    "-i",
    key,
    "-o",
    "IdentitiesOnly=yes",
    "-o",
    "PreferredAuthentications=publickey,keyboard-interactive",
    "-o",
    "NumberOfPasswordPrompts=1",
    ...extra,
    `${user}@127.0.0.1`,
    "--",
    command,
  ];
}

Deno.test("end to end: TOTP as a second factor", async (t) => {
  await requireEngine();
  const dir = await Deno.makeTempDir({ prefix: "capsule-totp-" });
  const keygen = await run(["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-f", `${dir}/key`]);
  assert.equal(keygen.code, 0, keygen.stderr);
  const publicKey = (await Deno.readTextFile(`${dir}/key.pub`)).trim();
  // A CA and a certificate of the same key for gina (with a secret) and hank (without).
  for (
    const args of [
      ["-q", "-t", "ed25519", "-N", "", "-f", `${dir}/ca`],
      ["-q", "-s", `${dir}/ca`, "-I", "totp-test", "-n", "gina,hank", `${dir}/key.pub`],
    ]
  ) {
    const made = await run(["ssh-keygen", ...args]);
    assert.equal(made.code, 0, made.stderr);
  }
  const secrets: Record<string, string> = {};
  for (const user of ["alice", "bob", "carol", "dave", "erin", "gina"]) {
    secrets[user] = await totpSecret(user);
  }
  // bob's secret is in a file, read at login.
  await Deno.writeTextFile(`${dir}/bob.totp`, `${secrets["bob"]}\n`, { mode: 0o600 });
  const hash = await demoPasswordHash();
  const withTotp = (user: string) => ({ passwordHash: hash, totpSecret: secrets[user] });
  const { capsule, login: demo } = await startDemoCapsule({
    config: {
      server: { maxAuthTries: 3 },
      auth: { trustedUserCAKeys: [`${dir}/ca.pub`] },
      audit: { file: `${dir}/audit.log` },
      users: {
        alice: { ...withTotp("alice"), authorizedKeys: [publicKey] },
        bob: { passwordHash: hash, totpSecretFile: `${dir}/bob.totp` },
        carol: withTotp("carol"),
        dave: withTotp("dave"),
        erin: withTotp("erin"),
        frank: { authorizedKeys: [publicKey] },
        gina: { totpSecret: secrets["gina"] },
      },
    },
  });
  const port = String(capsule.port);
  /** Every code sent, to look for in the log at the end. */
  const codes = new Set<string>();
  const code = async (user: string, offset = 0) => {
    const value = await oathtool(secrets[user]!, offset);
    codes.add(value);
    return value;
  };
  /** OpenSSH with the key, then the code through sshpass at the "Verification code" prompt. */
  const keyAndCode = (user: string, totp: string, command: string, extra: string[] = []) =>
    run(keyAndCodeCommand(capsule.port, `${dir}/key`, user, totp, command, extra), {
      env: { PATH: Deno.env.get("PATH") ?? "/usr/bin:/bin" },
    });
  /** paramiko or asyncssh: the password, then the codes in order. */
  const python = (library: string, user: string, totps: string[], command = "echo via-python") =>
    run([PYTHON, PYTHON_CLIENT, library, port, user, DEMO_PASSWORD, totps.join(","), command], {
      timeoutMs: 60_000,
    });
  const records = (event: string, user: string) =>
    capsule.logs().filter((r) => r.event === event && r.user === user);

  try {
    await t.step("OpenSSH: key, partial success, then the code", async () => {
      const totp = await code("alice");
      const out = await keyAndCode("alice", totp, "echo key-and-code");
      assert.equal(out.code, 0, out.stderr);
      assert.equal(out.stdout, "key-and-code\n");
      const [partial] = records("auth.partial", "alice");
      assert.equal(partial?.method, "publickey");
      assert.equal(partial?.next, "totp");
      const [accepted] = records("auth.accepted", "alice");
      assert.equal(accepted?.method, "publickey");
      assert.deepEqual(accepted?.second_factors, ["totp"]);
    });

    await t.step("OpenSSH: the same code again is refused (replay)", async () => {
      const used = [...codes].at(-1)!;
      const out = await keyAndCode("alice", used, "echo replayed");
      assert.notEqual(out.code, 0);
      assert.doesNotMatch(out.stdout, /replayed/);
      assert.ok(
        records("auth.rejected", "alice").some((r) => r.reason === "TOTP code already used"),
      );
    });

    await t.step(
      "OpenSSH: a certificate, then the code; without a secret, the certificate alone",
      async () => {
        const cert = ["-o", `CertificateFile=${dir}/key-cert.pub`];
        const out = await keyAndCode("gina", await code("gina"), "echo cert-and-code", cert);
        assert.equal(out.code, 0, out.stderr);
        assert.equal(out.stdout, "cert-and-code\n");
        const [accepted] = records("auth.accepted", "gina");
        assert.equal(accepted?.certificate_id, "totp-test");
        assert.deepEqual(accepted?.second_factors, ["totp"]);
        const alone = await keyAndCode("hank", "000000", "echo cert-alone", cert);
        assert.equal(alone.code, 0, alone.stderr);
        assert.equal(alone.stdout, "cert-alone\n");
        assert.equal(records("auth.partial", "hank").length, 0);
      },
    );

    await t.step("a code from two steps ago is refused", async () => {
      const stale = await code("erin", -2);
      const out = await python("paramiko", "erin", [stale], "echo stale");
      const result = report(out);
      assert.ok(result.error, `logged in with a stale code: ${JSON.stringify(result)}`);
      assert.equal(result.sent, 1);
      assert.ok(records("auth.rejected", "erin").some((r) => r.reason === "wrong TOTP code"));
      // Erin's current code still works: the refusal was the step, not the secret.
      const fresh = report(await python("paramiko", "erin", [await code("erin")], "echo fresh"));
      assert.equal(fresh.stdout, "fresh\n", JSON.stringify(fresh));
    });

    await t.step(
      "paramiko: password, partial success, then the code (secret in a file)",
      async () => {
        const result = report(await python("paramiko", "bob", [await code("bob")]));
        assert.deepEqual(result.after_password, ["keyboard-interactive"]);
        assert.deepEqual(result.prompts, [["Verification code: "]]);
        assert.equal(result.stdout, "via-python\n", JSON.stringify(result));
        assert.equal(result.status, 0);
      },
    );

    await t.step("asyncssh: password, then the code", async () => {
      const result = report(await python("asyncssh", "carol", [await code("carol")]));
      assert.deepEqual(result.prompts, [["Verification code: "]]);
      assert.equal(result.stdout, "via-python\n", JSON.stringify(result));
      assert.equal(result.status, 0);
      assert.deepEqual(records("auth.accepted", "carol")[0]?.second_factors, ["totp"]);
    });

    await t.step("a wrong code is refused, a right one after it passes", async () => {
      const right = await code("dave");
      const wrong = String((Number(right) + 500_000) % 1_000_000).padStart(6, "0");
      codes.add(wrong);
      const result = report(await python("paramiko", "dave", [wrong, right]));
      assert.equal(result.refusals, 1);
      assert.equal(result.stdout, "via-python\n", JSON.stringify(result));
    });

    await t.step(
      "wrong codes count toward maxAuthTries: the third closes the connection",
      async () => {
        const wrong = ["000001", "000002", "000003", "000004", "000005"].filter((c) =>
          ![...codes].includes(c)
        );
        for (const c of wrong) codes.add(c);
        const before = capsule.logs().filter((r) => r.event === "auth.too_many_failures").length;
        const result = report(await python("paramiko", "dave", wrong));
        assert.ok(result.error, JSON.stringify(result));
        assert.equal(result.sent, 3, JSON.stringify(result));
        assert.equal(result.active, false);
        const closes = capsule.logs().filter((r) => r.event === "auth.too_many_failures");
        assert.equal(closes.length, before + 1);
        assert.equal(closes.at(-1)?.failures, 3);
      },
    );

    await t.step("users without a secret log in with one factor as before", async () => {
      const password = await ssh(demo, "echo one-factor");
      assert.equal(password.code, 0, password.stderr);
      assert.equal(password.stdout, "one-factor\n");
      const key = await ssh(
        { port: capsule.port, user: "frank", identityFile: `${dir}/key` },
        "echo key-only",
      );
      assert.equal(key.code, 0, key.stderr);
      assert.equal(key.stdout, "key-only\n");
      assert.equal(records("auth.partial", "demo").length, 0);
      assert.equal(records("auth.partial", "frank").length, 0);
      assert.equal(records("auth.accepted", "frank")[0]?.second_factors, undefined);
    });

    await t.step("the audit records partial success and the second factor", async () => {
      const audit = (await Deno.readTextFile(`${dir}/audit.log`)).trim().split("\n")
        .map((line) => JSON.parse(line)).filter((r) => r.event === "auth" && r.user === "bob");
      assert.deepEqual(
        audit.filter((r) => r.method !== "none").map((r) => [r.method, r.result, r.second_factor]),
        [["password", "partial", undefined], ["keyboard-interactive", "accepted", "totp"]],
      );
    });

    await t.step("no password, secret or code in the log", async () => {
      const strings: string[] = [];
      const collect = (value: unknown): void => {
        if (typeof value === "string") strings.push(value);
        else if (Array.isArray(value)) value.forEach(collect);
        else if (typeof value === "object" && value !== null) Object.values(value).forEach(collect);
      };
      capsule.logs().forEach(collect);
      strings.push(await Deno.readTextFile(`${dir}/audit.log`));
      assert.ok(strings.length > 100);
      const text = strings.join("\n");
      assert.ok(!text.includes(DEMO_PASSWORD), "the password is in the log");
      for (const secret of Object.values(secrets)) {
        assert.ok(!text.includes(secret), "a TOTP secret is in the log");
        assert.ok(!text.includes(secret.toLowerCase()), "a TOTP secret is in the log");
      }
      for (const value of codes) {
        assert.doesNotMatch(
          text,
          new RegExp(`(?<!\\d)${value}(?!\\d)`),
          `code ${value} is in the log`,
        );
      }
    });
  } finally {
    assert.equal(await capsule.stop(), 0);
  }
  await assertNoContainersLeft(20_000, capsule.instance);

  await t.step("a wrong code earns the source the failed-login penalty", async () => {
    const secret = await totpSecret("alice");
    const { capsule: strict } = await startDemoCapsule({
      penalties: true,
      config: {
        server: { penalties: { authFail: 30, min: 15 } },
        users: { alice: { authorizedKeys: [publicKey], totpSecret: secret } },
      },
    });
    try {
      const sshTo = (totp: string) =>
        run(keyAndCodeCommand(strict.port, `${dir}/key`, "alice", totp, "echo in"), {
          env: { PATH: Deno.env.get("PATH") ?? "/usr/bin:/bin" },
        });
      const right = await oathtool(secret);
      const wrong = String((Number(right) + 500_000) % 1_000_000).padStart(6, "0");
      const refused = await sshTo(wrong);
      assert.notEqual(refused.code, 0);
      await strict.waitForLog((r) => r.event === "connection.close" && r.user === undefined);
      // The right key and code from the same address: refused before any SSH, penalized.
      const after = await sshTo(right);
      assert.notEqual(after.code, 0);
      assert.doesNotMatch(after.stdout, /in/);
      await strict.waitForLog((r) => r.event === "connection.refused" && r.reason === "penalty");
    } finally {
      assert.equal(await strict.stop(), 0);
    }
  });
  await Deno.remove(dir, { recursive: true });
});
