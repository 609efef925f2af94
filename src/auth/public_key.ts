import { createHash, timingSafeEqual } from "node:crypto";
import { _decodeBase64 } from "./_base64.ts";

/** A public key from an authorized_keys line. */
export interface PublicKey {
  /** Key type, e.g. `ssh-ed25519`; always the type named inside `data`. */
  algo: string;
  /** The key in SSH wire format (the base64-decoded field of the line). */
  data: Uint8Array;
  /** The rest of the line after the key, often `user@host`; may be empty. */
  comment: string;
}

/** A line of authorized_keys that was skipped, or honoured only in part. */
export interface AuthorizedKeysWarning {
  /** 1-based line number. */
  line: number;
  /** What is wrong; never contains key material. */
  message: string;
}

/** The keys of an authorized_keys text and what was wrong with its other lines. */
export interface AuthorizedKeys {
  keys: PublicKey[];
  warnings: AuthorizedKeysWarning[];
}

/** Key types accepted in authorized_keys (certificates are not supported). */
const KEY_TYPES: ReadonlySet<string> = new Set([
  "ssh-ed25519",
  "ssh-rsa",
  "ssh-dss",
  "ecdsa-sha2-nistp256",
  "ecdsa-sha2-nistp384",
  "ecdsa-sha2-nistp521",
  "sk-ssh-ed25519@openssh.com",
  "sk-ecdsa-sha2-nistp256@openssh.com",
]);

// A token that may safely be quoted in a warning: short, and clearly not base64 key data.
const NAME_LIKE = /^[A-Za-z0-9][A-Za-z0-9@._-]{0,63}$/;

type LineResult = { key: PublicKey; options: boolean } | { error: string };

/**
 * Parses authorized_keys text: one `[options] keytype base64 [comment]` per
 * line; blank lines and `#` comments are skipped.
 *
 * Options (`from=`, `command=`, `restrict`, `cert-authority`...) are NOT
 * enforced: the key is accepted as if the line had none, and a warning says
 * so, because silently dropping a restriction would widen access unnoticed.
 * Malformed lines are skipped with a warning; this function never throws.
 *
 * @example
 * ```ts
 * const { keys, warnings } = parseAuthorizedKeys(await Deno.readTextFile(path));
 * ```
 */
export function parseAuthorizedKeys(text: string): AuthorizedKeys {
  const keys: PublicKey[] = [];
  const warnings: AuthorizedKeysWarning[] = [];
  text.split("\n").forEach((raw, index) => {
    const line = raw.trim();
    if (line === "" || line.startsWith("#")) return;
    const result = parseLine(line);
    if ("error" in result) {
      warnings.push({ line: index + 1, message: result.error });
      return;
    }
    keys.push(result.key);
    if (result.options) {
      warnings.push({ line: index + 1, message: "Key options are not supported and are ignored" });
    }
  });
  return { keys, warnings };
}

/**
 * The SHA-256 fingerprint of a key blob, as `ssh-keygen -l` prints it.
 *
 * @returns `SHA256:` followed by unpadded base64
 */
export function fingerprintSha256(data: Uint8Array): string {
  return "SHA256:" + createHash("sha256").update(data).digest("base64").replace(/=+$/, "");
}

/** Whether two keys are the same: equal type and, compared in constant time, equal blob. */
export function keysEqual(
  a: Pick<PublicKey, "algo" | "data">,
  b: Pick<PublicKey, "algo" | "data">,
): boolean {
  if (a.algo !== b.algo || a.data.length !== b.data.length) return false;
  return timingSafeEqual(a.data, b.data);
}

function parseLine(line: string): LineResult {
  const [first, afterFirst] = splitField(line);
  let type = first;
  let rest = afterFirst;
  const options = !KEY_TYPES.has(first);
  // As in OpenSSH: a line that does not start with a key type starts with options.
  if (options) [type, rest] = splitField(afterFirst);
  if (!KEY_TYPES.has(type)) {
    const named = NAME_LIKE.test(type) ? type : NAME_LIKE.test(first) ? first : null;
    return {
      error: named === null ? "Missing or unknown key type" : `Unknown key type "${named}"`,
    };
  }
  const [encoded, comment] = splitField(rest);
  if (encoded === "") return { error: `Missing key data after "${type}"` };
  const data = _decodeBase64(encoded);
  if (data === null) return { error: "Key data is not valid base64" };
  const inner = keyTypeOf(data);
  if (inner === null) return { error: "Key data is not an SSH public key" };
  if (inner !== type) {
    const shown = NAME_LIKE.test(inner) ? ` of type "${inner}"` : "";
    return { error: `Key type "${type}" does not match the key data${shown}` };
  }
  return { key: { algo: type, data, comment }, options };
}

/** The first field of `text` (double quotes group spaces) and the rest, trimmed. */
function splitField(text: string): [field: string, rest: string] {
  let quoted = false;
  let end = 0;
  for (; end < text.length; end++) {
    const c = text[end];
    if (quoted && c === "\\" && text[end + 1] === '"') end++;
    else if (c === '"') quoted = !quoted;
    else if (!quoted && (c === " " || c === "\t")) break;
  }
  return [text.slice(0, end), text.slice(end).trimStart()];
}

/** The key type named by the first SSH string of a wire-format key, or `null`. */
function keyTypeOf(data: Uint8Array): string | null {
  if (data.length < 4) return null;
  const length = new DataView(data.buffer, data.byteOffset, data.byteLength).getUint32(0);
  // Type names are short; a longer "string" means this is not a key blob.
  if (length === 0 || length > 64 || length > data.length - 4) return null;
  return String.fromCharCode(...data.subarray(4, 4 + length));
}
