import { resolve } from "node:path";
import { _flagsOrHelp, _HELP_FLAG } from "./_common_flags.ts";
import type { Command } from "./command.ts";
import { UsageError } from "./usage_error.ts";

const FLAGS = {
  ..._HELP_FLAG,
  type: { type: "string", short: "t" },
  bits: { type: "string", short: "b" },
  out: { type: "string", short: "o" },
  force: { type: "boolean" },
} as const;

/** `capsule keygen`: generates an SSH host key. */
export const keygenCommand: Command = {
  name: "keygen",
  summary: "Generate an SSH host key",
  help: () =>
    `Usage: capsule keygen [--type ed25519|rsa] [--bits N] [--out FILE [--force]]

Generates an SSH host key. With --out, writes the private key to FILE with
mode 0600 and prints the public key line and its fingerprint; without it,
prints the private key to standard output.

Flags:
  -t, --type TYPE  ed25519 (default) or rsa; ECDSA is not supported under Deno
  -b, --bits N     RSA key size, 2048 or more (default 4096)
  -o, --out FILE   Write the private key to FILE
      --force      Replace FILE if it exists
  -h, --help       Show this help

Examples:
  capsule keygen --out /etc/capsule/ssh_host_ed25519_key
  capsule serve --host-key /etc/capsule/ssh_host_ed25519_key
`,
  async run(args, context) {
    const values = _flagsOrHelp(args, FLAGS, context, () => this.help());
    if (values === undefined) return 0;
    const type = keyType(values.type ?? "ed25519");
    const bits = values.bits === undefined ? undefined : keyBits(type, values.bits);
    if (values.force && values.out === undefined) {
      throw new UsageError(`option "--force" needs "--out"`);
    }

    const key = bits === undefined
      ? context.generateHostKey(type)
      : context.generateHostKey(type, bits);
    if (values.out === undefined) {
      context.stdout(ensureNewline(key.privateKey));
      context.stderr(`${key.publicKey.trim()}\n${key.fingerprint}\n`);
      return 0;
    }
    let written: boolean;
    try {
      written = await writePrivate(
        resolve(context.cwd, values.out),
        key.privateKey,
        values.force ?? false,
      );
    } catch (error) {
      const reason = error instanceof Error ? error.message : String(error);
      throw new Error(`Cannot write host key to ${JSON.stringify(values.out)}: ${reason}`);
    }
    if (!written) {
      context.stderr(
        `capsule: Cannot write host key to ${
          JSON.stringify(values.out)
        }: file exists (use --force to replace it)\n`,
      );
      return 1;
    }
    context.stdout(`${key.publicKey.trim()}\n${key.fingerprint}\n`);
    context.stderr(`capsule: wrote ${type} host key to ${JSON.stringify(values.out)}\n`);
    return 0;
  },
};

function keyType(value: string): "ed25519" | "rsa" {
  if (value === "ed25519" || value === "rsa") return value;
  if (/^ecdsa/i.test(value)) {
    throw new UsageError(`ECDSA host keys are not supported under Deno: use "ed25519"`);
  }
  throw new UsageError(`invalid key type ${JSON.stringify(value)}: expected "ed25519" or "rsa"`);
}

function keyBits(type: "ed25519" | "rsa", value: string): number {
  if (type !== "rsa") throw new UsageError(`option "--bits" applies only to "--type rsa"`);
  const bits = /^\d+$/.test(value) ? Number(value) : NaN;
  if (!(bits >= 2048 && bits <= 16384)) {
    throw new UsageError(
      `invalid RSA key size ${JSON.stringify(value)}: expected 2048 to 16384 bits`,
    );
  }
  return bits;
}

/**
 * Writes a private key readable by its owner only. The file is opened (and
 * its mode fixed) before the key is written, so the key is never in a file
 * others can read.
 *
 * @returns `false` when the file exists and `force` is not set
 */
async function writePrivate(path: string, text: string, force: boolean): Promise<boolean> {
  let file: Deno.FsFile;
  try {
    file = await Deno.open(path, {
      write: true,
      createNew: !force,
      create: true,
      truncate: true,
      mode: 0o600,
    });
  } catch (error) {
    if (error instanceof Deno.errors.AlreadyExists) return false;
    throw error;
  }
  try {
    await Deno.chmod(path, 0o600);
    const data = new TextEncoder().encode(ensureNewline(text));
    for (let done = 0; done < data.length;) done += await file.write(data.subarray(done));
  } finally {
    file.close();
  }
  return true;
}

function ensureNewline(text: string): string {
  return text.endsWith("\n") ? text : `${text}\n`;
}
