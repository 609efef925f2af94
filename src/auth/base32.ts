/** RFC 4648's base32 alphabet, the one TOTP apps use for secrets. */
const ALPHABET = "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567";

/**
 * Encodes bytes as unpadded upper-case base32 (RFC 4648), as authenticator
 * apps show and accept secrets.
 *
 * @example
 * ```ts
 * base32Encode(new TextEncoder().encode("foobar")); // "MZXW6YTBOI"
 * ```
 */
export function base32Encode(bytes: Uint8Array): string {
  let out = "";
  let bits = 0;
  let value = 0;
  for (const byte of bytes) {
    value = (value << 8) | byte;
    bits += 8;
    while (bits >= 5) {
      out += ALPHABET[(value >>> (bits - 5)) & 31];
      bits -= 5;
    }
    value &= (1 << bits) - 1;
  }
  if (bits > 0) out += ALPHABET[(value << (5 - bits)) & 31];
  return out;
}

/**
 * Decodes base32 (RFC 4648): either case, `=` padding and spaces ignored, as
 * secrets are often written in groups of four.
 *
 * @returns the bytes, or `null` for a character outside the alphabet or a
 *   length no encoder makes
 */
export function base32Decode(text: string): Uint8Array | null {
  const clean = text.replace(/[\s=]+/g, "").toUpperCase();
  // 1, 3 and 6 trailing characters carry no whole byte: not an encoding.
  if ([1, 3, 6].includes(clean.length % 8)) return null;
  const out = new Uint8Array(Math.floor((clean.length * 5) / 8));
  let bits = 0;
  let value = 0;
  let at = 0;
  for (const char of clean) {
    const digit = ALPHABET.indexOf(char);
    if (digit < 0) return null;
    value = ((value << 5) | digit) & 0xffff;
    bits += 5;
    if (bits >= 8) {
      out[at++] = (value >>> (bits - 8)) & 0xff;
      bits -= 8;
    }
  }
  return out;
}
