import { randomBytes, scrypt, timingSafeEqual } from "node:crypto";
import { _decodeBase64, _encodeBase64 } from "./_base64.ts";

interface ScryptParams {
  N: number;
  r: number;
  p: number;
}

interface ParsedHash {
  params: ScryptParams;
  salt: Uint8Array;
  key: Uint8Array;
}

const DEFAULT_PARAMS: ScryptParams = { N: 16384, r: 8, p: 1 };
const SALT_BYTES = 16;
const KEY_BYTES = 32;
// scrypt needs about 128 * N * r bytes. A hash asking for more than 1 GiB per
// attempt would turn every login into a memory exhaustion risk.
const MAX_MEMORY = 2 ** 30;

const HASH_FORMAT =
  /^\$scrypt\$N=([1-9][0-9]{0,7}),r=([1-9][0-9]?),p=([1-9][0-9]?)\$([A-Za-z0-9+/=]+)\$([A-Za-z0-9+/=]+)$/;

/**
 * Hashes a password with scrypt and a fresh random salt, in the format that
 * `users.<name>.passwordHash` expects.
 *
 * @returns `$scrypt$N=16384,r=8,p=1$<salt base64>$<key base64>`
 * @throws {RangeError} when the password is empty
 *
 * @example
 * ```ts
 * const hash = await hashPassword("s3cret");
 * await verifyPassword("s3cret", hash); // true
 * ```
 */
export async function hashPassword(password: string): Promise<string> {
  if (password.length === 0) throw new RangeError("Cannot hash an empty password");
  const salt = new Uint8Array(randomBytes(SALT_BYTES));
  const key = await deriveKey(password, salt, KEY_BYTES, DEFAULT_PARAMS);
  const { N, r, p } = DEFAULT_PARAMS;
  return `$scrypt$N=${N},r=${r},p=${p}$${_encodeBase64(salt)}$${_encodeBase64(key)}`;
}

/**
 * Checks a password against a hash made by {@linkcode hashPassword}, in
 * constant time with respect to the stored key.
 *
 * @returns `true` on a match; `false` on a mismatch or a malformed hash (it
 *   never throws, so a bad config entry simply refuses the login)
 */
export async function verifyPassword(password: string, hash: string): Promise<boolean> {
  const parsed = parseHash(hash);
  if (parsed === null || typeof password !== "string") return false;
  try {
    const key = await deriveKey(password, parsed.salt, parsed.key.length, parsed.params);
    return timingSafeEqual(key, parsed.key);
  } catch {
    return false;
  }
}

/**
 * Whether `hash` is a well-formed scrypt hash with acceptable parameters
 * (N a power of 2 from 1024 to 2^20, r 1–32, p 1–16, at most 1 GiB of memory).
 * For the config loader and tools; {@linkcode verifyPassword} does not need it.
 */
export function isValidPasswordHash(hash: string): boolean {
  return parseHash(hash) !== null;
}

function parseHash(hash: string): ParsedHash | null {
  if (typeof hash !== "string") return null;
  const match = HASH_FORMAT.exec(hash);
  if (match === null) return null;
  const [, n = "", r = "", p = "", saltText = "", keyText = ""] = match;
  const params = { N: Number(n), r: Number(r), p: Number(p) };
  if (!isAcceptable(params)) return null;
  const salt = _decodeBase64(saltText);
  const key = _decodeBase64(keyText);
  if (salt === null || salt.length < 8 || salt.length > 64) return null;
  if (key === null || key.length < 16 || key.length > 64) return null;
  return { params, salt, key };
}

function isAcceptable({ N, r, p }: ScryptParams): boolean {
  const powerOfTwo = Number.isInteger(N) && (N & (N - 1)) === 0;
  return powerOfTwo && N >= 1024 && N <= 2 ** 20 &&
    r >= 1 && r <= 32 && p >= 1 && p <= 16 && 128 * N * r <= MAX_MEMORY;
}

function deriveKey(
  password: string,
  salt: Uint8Array,
  length: number,
  { N, r, p }: ScryptParams,
): Promise<Uint8Array> {
  // Room for scrypt's V array (128 * N * r) and B array (128 * r * p), doubled.
  const maxmem = 2 * 128 * r * (N + p + 2);
  return new Promise((resolve, reject) => {
    try {
      scrypt(password, salt, length, { N, r, p, maxmem }, (error, key) => {
        if (error) reject(error);
        else resolve(new Uint8Array(key));
      });
    } catch (error) {
      // Invalid parameters are thrown synchronously, not passed to the callback.
      reject(error);
    }
  });
}
