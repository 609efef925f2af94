import assert from "node:assert/strict";
import { Buffer } from "node:buffer";
import { fingerprintSha256, keysEqual, parseAuthorizedKeys } from "../../src/auth/mod.ts";

/** An SSH wire blob: the key type as an SSH string, then `body` as another. */
function blob(type: string, body: Uint8Array = new Uint8Array(32).fill(1)): Uint8Array {
  const sshString = (bytes: Uint8Array) => {
    const out = new Uint8Array(4 + bytes.length);
    new DataView(out.buffer).setUint32(0, bytes.length);
    out.set(bytes, 4);
    return out;
  };
  return new Uint8Array([...sshString(new TextEncoder().encode(type)), ...sshString(body)]);
}

const b64 = (bytes: Uint8Array) => Buffer.from(bytes).toString("base64");

async function run(command: string, args: string[]): Promise<string> {
  const output = await new Deno.Command(command, { args, stdout: "piped", stderr: "piped" })
    .output();
  const stderr = new TextDecoder().decode(output.stderr);
  assert.equal(output.code, 0, `${command} ${args.join(" ")}: ${stderr}`);
  return new TextDecoder().decode(output.stdout);
}

Deno.test("parseAuthorizedKeys() reads keys with and without comments", () => {
  const ed = blob("ssh-ed25519");
  const rsa = blob("ssh-rsa", new Uint8Array(64).fill(9));
  const text = `ssh-ed25519 ${b64(ed)} alice@laptop\nssh-rsa ${b64(rsa)}\n`;
  const { keys, warnings } = parseAuthorizedKeys(text);
  assert.deepEqual(warnings, []);
  assert.deepEqual(keys, [
    { algo: "ssh-ed25519", data: ed, comment: "alice@laptop" },
    { algo: "ssh-rsa", data: rsa, comment: "" },
  ]);
});

Deno.test("parseAuthorizedKeys() skips blank lines, comments and CRLF endings", () => {
  const ed = blob("ssh-ed25519");
  const text = `# keys of alice\r\n\r\n   \n\t# indented comment\nssh-ed25519 ${
    b64(ed)
  } two words\r\n`;
  const { keys, warnings } = parseAuthorizedKeys(text);
  assert.deepEqual(warnings, []);
  assert.deepEqual(keys, [{ algo: "ssh-ed25519", data: ed, comment: "two words" }]);
});

Deno.test("parseAuthorizedKeys() skips an options prefix, warning that it is ignored", async (t) => {
  const ed = blob("ssh-ed25519");
  const cases = [
    "restrict",
    "no-pty,no-port-forwarding",
    'command="echo hello world",from="10.0.0.0/8"',
    'command="say \\"hi there\\""',
  ];
  for (const options of cases) {
    await t.step(options, () => {
      const { keys, warnings } = parseAuthorizedKeys(`\n${options} ssh-ed25519 ${b64(ed)} bob`);
      assert.deepEqual(keys, [{ algo: "ssh-ed25519", data: ed, comment: "bob" }]);
      assert.deepEqual(warnings, [
        { line: 2, message: "Key options are not supported and are ignored" },
      ]);
    });
  }
});

Deno.test("parseAuthorizedKeys() reports malformed lines with their line number", async (t) => {
  const ed = b64(blob("ssh-ed25519"));
  const cases: Array<[string, string, string]> = [
    [
      "bad base64",
      `ssh-ed25519 ${ed.slice(0, 10)}*${ed.slice(11)}`,
      "Key data is not valid base64",
    ],
    ["truncated base64", `ssh-ed25519 ${ed.slice(0, -2)}`, "Key data is not valid base64"],
    [
      "mismatched key type",
      `ssh-rsa ${ed} x`,
      'Key type "ssh-rsa" does not match the key data of type "ssh-ed25519"',
    ],
    ["unknown key type", `ssh-ed2551 ${ed}`, 'Unknown key type "ssh-ed2551"'],
    ["unknown key type after options", `no-pty foo-key ${ed}`, 'Unknown key type "foo-key"'],
    ["missing key type", `from="x" ${ed}`, "Missing or unknown key type"],
    ["missing key data", "ssh-ed25519", 'Missing key data after "ssh-ed25519"'],
    [
      "not a key blob",
      `ssh-ed25519 ${b64(new Uint8Array([0, 0, 9, 9, 1]))}`,
      "Key data is not an SSH public key",
    ],
  ];
  for (const [name, line, message] of cases) {
    await t.step(name, () => {
      const good = `ssh-ed25519 ${ed} good`;
      const { keys, warnings } = parseAuthorizedKeys(`# header\n${good}\n\n${line}\n${good}`);
      assert.equal(keys.length, 2);
      assert.deepEqual(warnings, [{ line: 4, message }]);
      assert.ok(!message.includes(ed.slice(0, 12)), "no key material in the warning");
    });
  }
});

Deno.test("fingerprintSha256() matches ssh-keygen -l", async (t) => {
  const dir = await Deno.makeTempDir({ prefix: "capsule-auth-" });
  try {
    for (const [type, bits] of [["ed25519", ""], ["ecdsa", "256"], ["rsa", "2048"]] as const) {
      await t.step(type, async () => {
        const file = `${dir}/${type}`;
        const size = bits === "" ? [] : ["-b", bits];
        await run("ssh-keygen", ["-t", type, ...size, "-N", "", "-C", "test", "-f", file, "-q"]);
        const { keys, warnings } = parseAuthorizedKeys(await Deno.readTextFile(`${file}.pub`));
        assert.deepEqual(warnings, []);
        assert.equal(keys.length, 1);
        const expected = (await run("ssh-keygen", ["-l", "-E", "sha256", "-f", `${file}.pub`]))
          .split(" ")[1];
        assert.match(expected ?? "", /^SHA256:[A-Za-z0-9+/]{43}$/);
        assert.equal(fingerprintSha256(keys[0]!.data), expected);
      });
    }
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("keysEqual() needs the same type and the same blob", async (t) => {
  const a = { algo: "ssh-ed25519", data: blob("ssh-ed25519") };
  const cases: Array<[string, { algo: string; data: Uint8Array }, boolean]> = [
    ["identical copy", { algo: "ssh-ed25519", data: a.data.slice() }, true],
    ["other blob", { algo: "ssh-ed25519", data: blob("ssh-ed25519", new Uint8Array(32)) }, false],
    ["other type", { algo: "ssh-rsa", data: a.data }, false],
    ["shorter blob", { algo: "ssh-ed25519", data: a.data.subarray(0, -1) }, false],
    ["empty blob", { algo: "ssh-ed25519", data: new Uint8Array() }, false],
  ];
  for (const [name, b, equal] of cases) {
    await t.step(name, () => {
      assert.equal(keysEqual(a, b), equal);
      assert.equal(keysEqual(b, a), equal);
    });
  }
});
