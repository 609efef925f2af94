import assert from "node:assert/strict";
import { Buffer } from "node:buffer";
import { fingerprintSha256, verifyUserCertificate } from "../../src/auth/mod.ts";
import type { CertificatePolicy } from "../../src/auth/mod.ts";

/** Runs ssh-keygen; fails the test on a non-zero exit. */
async function keygen(args: string[]): Promise<void> {
  const out = await new Deno.Command("ssh-keygen", { args, stdout: "null", stderr: "piped" })
    .output();
  assert.equal(out.code, 0, new TextDecoder().decode(out.stderr));
}

/** The algorithm and wire blob of an OpenSSH public key or certificate file. */
async function readKey(path: string): Promise<{ algo: string; blob: Uint8Array }> {
  const [algo = "", data = ""] = (await Deno.readTextFile(path)).trim().split(/\s+/);
  return { algo, blob: new Uint8Array(Buffer.from(data, "base64")) };
}

Deno.test("verifyUserCertificate checks what sshd's TrustedUserCAKeys checks", async (t) => {
  const dir = await Deno.makeTempDir({ prefix: "capsule-cert-" });
  try {
    await keygen(["-q", "-t", "ed25519", "-N", "", "-f", `${dir}/ca`]);
    await keygen(["-q", "-t", "ed25519", "-N", "", "-f", `${dir}/other_ca`]);
    await keygen(["-q", "-t", "rsa", "-b", "2048", "-N", "", "-f", `${dir}/rsa_ca`]);
    await keygen(["-q", "-t", "ecdsa", "-b", "384", "-N", "", "-f", `${dir}/ecdsa_ca`]);
    await keygen(["-q", "-t", "ed25519", "-N", "", "-f", `${dir}/user`]);
    const ca = (await readKey(`${dir}/ca.pub`)).blob;
    const rsaCa = (await readKey(`${dir}/rsa_ca.pub`)).blob;
    const ecdsaCa = (await readKey(`${dir}/ecdsa_ca.pub`)).blob;
    const policy = (extra: Partial<CertificatePolicy> = {}): CertificatePolicy => ({
      trustedCAs: [ca, rsaCa, ecdsaCa],
      revokedSerials: new Set(),
      revokedKeys: new Set(),
      user: "alice",
      address: "127.0.0.1",
      ...extra,
    });
    let n = 0;
    /** Signs the user key with `args` and returns the certificate. */
    const sign = async (args: string[], signer = "ca") => {
      const name = `user${++n}`;
      await Deno.copyFile(`${dir}/user.pub`, `${dir}/${name}.pub`);
      await keygen([
        "-q",
        "-s",
        `${dir}/${signer}`,
        "-I",
        `id-${n}`,
        ...args,
        `${dir}/${name}.pub`,
      ]);
      return await readKey(`${dir}/${name}-cert.pub`);
    };
    const check = async (args: string[], extra: Partial<CertificatePolicy> = {}, signer = "ca") => {
      const cert = await sign(args, signer);
      return verifyUserCertificate(cert.algo, cert.blob, policy(extra));
    };
    const refused = async (args: string[], reason: RegExp, extra = {}, signer = "ca") => {
      const result = await check(args, extra, signer);
      assert.ok(!result.ok, `accepted: ${args.join(" ")}`);
      assert.match(result.reason, reason);
    };

    await t.step("a good certificate, with OpenSSH's default extensions", async () => {
      const result = await check(["-n", "alice,bob", "-z", "42"]);
      assert.ok(result.ok, result.ok ? "" : result.reason);
      assert.deepEqual(result.grant.principals, ["alice", "bob"]);
      assert.equal(result.grant.serial, "42");
      assert.match(result.grant.keyId, /^id-\d+$/);
      assert.equal(result.grant.ca, fingerprintSha256(ca));
      assert.equal(result.grant.permitPty, true);
      assert.equal(result.grant.permitPortForwarding, true);
      assert.equal(result.grant.permitAgentForwarding, true);
      assert.equal(result.grant.forceCommand, undefined);
      const user = await readKey(`${dir}/user.pub`);
      assert.deepEqual(result.key, user.blob, "the certificate's own key, for the login signature");
    });
    await t.step("extensions: absent ones deny", async () => {
      const result = await check(["-n", "alice", "-O", "clear", "-O", "permit-pty"]);
      assert.ok(result.ok);
      assert.equal(result.grant.permitPty, true);
      assert.equal(result.grant.permitPortForwarding, false);
      assert.equal(result.grant.permitAgentForwarding, false);
    });
    await t.step("force-command and source-address", async () => {
      const forced = await check(["-n", "alice", "-O", "force-command=echo forced"]);
      assert.ok(forced.ok);
      assert.equal(forced.grant.forceCommand, "echo forced");
      const from = ["-n", "alice", "-O", "source-address=10.0.0.0/8,::1"];
      assert.ok((await check(from, { address: "10.1.2.3" })).ok);
      assert.ok((await check(from, { address: "::ffff:10.1.2.3" })).ok);
      assert.ok((await check(from, { address: "::1" })).ok);
      await refused(from, /source address/, { address: "127.0.0.1" });
    });
    await t.step(
      "refused: principals, validity, CA, type, options, revocation, SHA-1",
      async () => {
        await refused(["-n", "bob"], /principals do not include "alice"/);
        await refused([], /no principals/);
        await refused(["-n", "*"], /no principals/);
        await refused(["-n", "alice", "-V", "-2d:-1d"], /expired/);
        await refused(["-n", "alice", "-V", "+1d:+2d"], /not yet valid/);
        await refused(["-n", "alice"], /untrusted CA/, {}, "other_ca");
        // With an outside judge (the auth webhook), another CA passes the rest of the checks.
        const outside = await check(["-n", "alice"], { outsideCAs: true }, "other_ca");
        assert.ok(outside.ok && outside.trustedBy === "outside");
        const own = await check(["-n", "alice"], { outsideCAs: true });
        assert.ok(own.ok && own.trustedBy === "config");
        await refused(["-n", "bob"], /principals/, { outsideCAs: true }, "other_ca");
        await refused(["-n", "alice", "-h"], /not a user certificate/);
        await refused(["-n", "alice", "-O", "critical:verify-required"], /unknown critical option/);
        await refused(["-n", "alice", "-z", "7"], /serial 7 is revoked/, {
          revokedSerials: new Set(["7"]),
        });
        const userFingerprint = fingerprintSha256((await readKey(`${dir}/user.pub`)).blob);
        await refused(["-n", "alice"], /is revoked/, { revokedKeys: new Set([userFingerprint]) });
        await refused(["-n", "alice"], /CA .* is revoked/, {
          revokedKeys: new Set([fingerprintSha256(ca)]),
        });
        await refused(["-n", "alice", "-t", "ssh-rsa"], /SHA-1/, {}, "rsa_ca");
        assert.ok((await check(["-n", "alice", "-t", "rsa-sha2-512"], {}, "rsa_ca")).ok);
        assert.ok((await check(["-n", "alice"], {}, "ecdsa_ca")).ok, "an ECDSA CA");
      },
    );
    await t.step("a tampered or truncated certificate", async () => {
      const cert = await sign(["-n", "alice"]);
      // Any flipped bit in the CA's signature, or in what it signs, breaks it.
      for (const offset of [10, 40, 70, 120, 200]) {
        const tampered = cert.blob.slice();
        tampered[tampered.length - offset]! ^= 1;
        const result = verifyUserCertificate(cert.algo, tampered, policy());
        assert.ok(!result.ok, `a bit flipped ${offset} bytes from the end went unnoticed`);
      }
      const last = cert.blob.slice();
      last[last.length - 1]! ^= 1;
      const result0 = verifyUserCertificate(cert.algo, last, policy());
      assert.ok(!result0.ok && /bad certificate signature/.test(result0.reason));
      const truncated = cert.blob.slice(0, cert.blob.length - 20);
      const result = verifyUserCertificate(cert.algo, truncated, policy());
      assert.ok(!result.ok);
      assert.ok(
        !verifyUserCertificate("ssh-ed25519-cert-v01@openssh.com", new Uint8Array(3), policy()).ok,
      );
    });
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
