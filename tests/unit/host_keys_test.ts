import assert from "node:assert/strict";
import { silentLogger } from "../../src/log/mod.ts";
import { generateHostKey, loadHostKeys, parseHostKey } from "../../src/ssh/mod.ts";

Deno.test("generateHostKey() always yields a key that parses, fingerprint included", () => {
  // Enough draws that the ~1-in-200 malformed pairs of ssh2's converter show up.
  for (let i = 0; i < 2000; i++) {
    const key = generateHostKey("ed25519");
    const parsed = parseHostKey(key.privateKey, "generated");
    assert.equal(parsed.type, "ssh-ed25519");
    assert.equal(parsed.fingerprint, key.fingerprint);
  }
});

Deno.test("loadHostKeys() generates one key with mode 0600 and reuses it", async () => {
  const dir = await Deno.makeTempDir();
  try {
    const stateDir = `${dir}/state`;
    const [first] = await loadHostKeys({ paths: [], stateDir, logger: silentLogger() });
    const [second] = await loadHostKeys({ paths: [], stateDir, logger: silentLogger() });
    assert.equal(first?.fingerprint, second?.fingerprint);
    const info = await Deno.stat(`${stateDir}/ssh_host_ed25519_key`);
    assert.equal((info.mode ?? 0) & 0o777, 0o600);
    assert.equal(((await Deno.stat(stateDir)).mode ?? 0) & 0o777, 0o700);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("parseHostKey() refuses ECDSA, public and encrypted keys with a clear message", async (t) => {
  const dir = await Deno.makeTempDir();
  try {
    const make = async (args: string[]) => {
      const file = `${dir}/${crypto.randomUUID()}`;
      const out = await new Deno.Command("ssh-keygen", {
        args: ["-q", "-f", file, ...args],
        stdout: "null",
        stderr: "null",
      }).output();
      assert.equal(out.code, 0);
      return file;
    };
    await t.step("ECDSA", async () => {
      const file = await make(["-t", "ecdsa", "-N", ""]);
      assert.throws(
        () => parseHostKey(Deno.readTextFileSync(file), file),
        /ECDSA host keys cannot sign under Deno/,
      );
    });
    await t.step("a public key", async () => {
      const file = await make(["-t", "ed25519", "-N", ""]);
      assert.throws(
        () => parseHostKey(Deno.readTextFileSync(`${file}.pub`), `${file}.pub`),
        /it is a public key/,
      );
    });
    await t.step("an encrypted key", async () => {
      const file = await make(["-t", "ed25519", "-N", "secret"]);
      assert.throws(() => parseHostKey(Deno.readTextFileSync(file), file), /it is encrypted/);
    });
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
