// @ts-types="@types/ssh2"
import ssh2 from "ssh2";
import { createHash } from "node:crypto";
import { CapsuleError } from "../errors/mod.ts";
import type { Logger } from "../log/mod.ts";

/** A host private key ready for the SSH server. */
export interface HostKey {
  /** Key type, e.g. `ssh-ed25519`. */
  type: string;
  /** `SHA256:...` as `ssh-keygen -l` prints it. */
  fingerprint: string;
  /** Where it came from. */
  path: string;
  /** The private key text (OpenSSH or PEM). */
  privateKey: string;
}

/** A freshly generated key pair. */
export interface GeneratedKey {
  /** OpenSSH private key text. */
  privateKey: string;
  /** authorized_keys-style public key line. */
  publicKey: string;
  fingerprint: string;
}

const GENERATED_NAME = "ssh_host_ed25519_key";

/** `SHA256:<base64>` fingerprint of an SSH public key blob. */
export function fingerprintOf(publicBlob: Uint8Array): string {
  return "SHA256:" + createHash("sha256").update(publicBlob).digest("base64").replace(/=+$/, "");
}

/**
 * Generates a host key pair. ECDSA is not offered: Deno's crypto cannot sign
 * with it in the way ssh2 needs.
 *
 * @throws {RangeError} for RSA sizes under 2048 bits
 */
export function generateHostKey(type: "ed25519" | "rsa", bits = 4096): GeneratedKey {
  if (type === "rsa" && bits < 2048) {
    throw new RangeError(`RSA keys need at least 2048 bits: got ${bits}`);
  }
  // Under Deno about one ed25519 pair in 200 comes out of ssh2's converter
  // malformed ("Malformed OpenSSH public key", consistent with a leading zero
  // byte lost in the DER it converts from). Such a pair is useless, so it is
  // thrown away and another one made.
  let lastError: Error | undefined;
  for (let attempt = 0; attempt < MAX_KEYGEN_ATTEMPTS; attempt++) {
    const pair = type === "rsa"
      ? ssh2.utils.generateKeyPairSync("rsa", { bits })
      : ssh2.utils.generateKeyPairSync("ed25519");
    const privateKey = ssh2.utils.parseKey(pair.private);
    const publicKey = ssh2.utils.parseKey(pair.public);
    if (privateKey instanceof Error) lastError = privateKey;
    else if (publicKey instanceof Error) lastError = publicKey;
    else {
      return {
        privateKey: pair.private,
        publicKey: pair.public,
        fingerprint: fingerprintOf(publicKey.getPublicSSH()),
      };
    }
  }
  throw new Error(`Cannot generate a usable ${type} key`, { cause: lastError });
}

const MAX_KEYGEN_ATTEMPTS = 10;

/** Parses a private key text and checks that capsule can serve with it. */
export function parseHostKey(text: string, path: string): HostKey {
  const parsed = ssh2.utils.parseKey(text);
  if (parsed instanceof Error) {
    const encrypted = /encrypted|passphrase/i.test(parsed.message);
    throw new CapsuleError(
      "HOST_KEY_INVALID",
      encrypted
        ? `Cannot use host key "${path}": it is encrypted; host keys must have no passphrase`
        : `Cannot use host key "${path}": ${parsed.message}`,
    );
  }
  if (!parsed.isPrivateKey()) {
    throw new CapsuleError(
      "HOST_KEY_INVALID",
      `Cannot use host key "${path}": it is a public key; give the private key file`,
    );
  }
  if (parsed.type.startsWith("ecdsa")) {
    throw new CapsuleError(
      "HOST_KEY_UNSUPPORTED",
      `Cannot use host key "${path}": ECDSA host keys cannot sign under Deno; use an ed25519 key ("capsule keygen")`,
    );
  }
  return {
    type: parsed.type,
    fingerprint: fingerprintOf(parsed.getPublicSSH()),
    path,
    privateKey: text,
  };
}

/** Options of {@linkcode loadHostKeys}. */
export interface LoadHostKeysOptions {
  /** Configured key files; when empty a key is generated in `stateDir`. */
  paths: readonly string[];
  stateDir: string;
  logger: Logger;
}

/**
 * Loads the configured host keys, or the generated one from the state
 * directory, generating it (mode 0600) on first start. Logs each fingerprint.
 *
 * @throws {CapsuleError} when a key cannot be read or used
 */
export async function loadHostKeys(options: LoadHostKeysOptions): Promise<HostKey[]> {
  const keys: HostKey[] = [];
  if (options.paths.length > 0) {
    for (const path of options.paths) keys.push(parseHostKey(await readKey(path), path));
  } else {
    keys.push(await loadOrGenerate(options.stateDir, options.logger));
  }
  for (const key of keys) {
    options.logger.info("host_key.loaded", {
      type: key.type,
      fingerprint: key.fingerprint,
      path: key.path,
    });
  }
  return keys;
}

async function readKey(path: string): Promise<string> {
  try {
    return await Deno.readTextFile(path);
  } catch (error) {
    const reason = error instanceof Deno.errors.NotFound
      ? "no such file"
      : String((error as Error).message);
    throw new CapsuleError("HOST_KEY_UNREADABLE", `Cannot read host key "${path}": ${reason}`, {
      cause: error,
    });
  }
}

async function loadOrGenerate(stateDir: string, logger: Logger): Promise<HostKey> {
  const path = `${stateDir.replace(/\/+$/, "")}/${GENERATED_NAME}`;
  try {
    return parseHostKey(await Deno.readTextFile(path), path);
  } catch (error) {
    if (!(error instanceof Deno.errors.NotFound)) throw error;
  }
  try {
    await Deno.mkdir(stateDir, { recursive: true, mode: 0o700 });
    const key = generateHostKey("ed25519");
    const temp = `${path}.${crypto.randomUUID()}.tmp`;
    await Deno.writeTextFile(temp, key.privateKey, { mode: 0o600, createNew: true });
    await Deno.rename(temp, path);
    logger.info("host_key.generated", { path, fingerprint: key.fingerprint });
    return parseHostKey(key.privateKey, path);
  } catch (error) {
    if (error instanceof CapsuleError) throw error;
    throw new CapsuleError(
      "STATE_DIR_UNWRITABLE",
      `Cannot create a host key in "${stateDir}": ${(error as Error).message}`,
      { cause: error },
    );
  }
}
