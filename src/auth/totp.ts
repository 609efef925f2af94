import { createHmac, randomBytes, timingSafeEqual } from "node:crypto";
import { base32Encode } from "./base32.ts";

/** Seconds per TOTP time step (RFC 6238's default, what every app uses). */
export const TOTP_PERIOD_SECONDS = 30;
/** Digits of a TOTP code. */
export const TOTP_DIGITS = 6;
/** Bytes of a new secret: 160 bits, RFC 4226's recommendation for HMAC-SHA-1. */
export const TOTP_SECRET_BYTES = 20;
/** The shortest secret accepted: 128 bits, RFC 4226's minimum (26 base32 characters). */
export const TOTP_MIN_SECRET_BYTES = 16;

/**
 * The HOTP value (RFC 4226) of `secret` for `counter`: HMAC-SHA-1, dynamic
 * truncation, the last `digits` decimal digits.
 *
 * @param digits 6 for logins; RFC 6238's test vectors use 8
 */
export function hotp(secret: Uint8Array, counter: number, digits = TOTP_DIGITS): string {
  if (!Number.isSafeInteger(counter) || counter < 0) {
    throw new RangeError(`Cannot compute HOTP: counter must be a whole number: got ${counter}`);
  }
  const message = new Uint8Array(8);
  new DataView(message.buffer).setBigUint64(0, BigInt(counter));
  const mac = createHmac("sha1", secret).update(message).digest();
  const offset = mac[mac.length - 1]! & 0x0f;
  const binary = ((mac[offset]! & 0x7f) << 24) | (mac[offset + 1]! << 16) |
    (mac[offset + 2]! << 8) | mac[offset + 3]!;
  return String(binary % 10 ** digits).padStart(digits, "0");
}

/** The TOTP time step (RFC 6238) that the instant `ms` (Unix milliseconds) falls in. */
export function totpStep(ms: number): number {
  return Math.floor(ms / 1000 / TOTP_PERIOD_SECONDS);
}

/**
 * The TOTP code of `secret` at the instant `ms` (RFC 6238: SHA-1, 30 s steps).
 *
 * @example
 * ```ts
 * totp(secret, Date.now()); // "492039"
 * ```
 */
export function totp(secret: Uint8Array, ms: number, digits = TOTP_DIGITS): string {
  return hotp(secret, totpStep(ms), digits);
}

/** Options of {@linkcode matchingSteps}. */
export interface MatchOptions {
  /** Compares two codes of equal length (default {@linkcode constantTimeEqual}); a seam for tests. */
  equal?: (a: Uint8Array, b: Uint8Array) => boolean;
}

/**
 * The steps among `steps` whose code is `code`. Every step is computed and
 * compared in constant time, with no early exit, and a code of the wrong
 * length or with other characters than digits is compared all the same, so
 * the time taken says nothing of which step (if any) matched.
 */
export function matchingSteps(
  secret: Uint8Array,
  code: string,
  steps: readonly number[],
  options: MatchOptions = {},
): number[] {
  const equal = options.equal ?? constantTimeEqual;
  const encoder = new TextEncoder();
  // Compared at the expected length whatever was typed; the length is the client's own knowledge.
  const given = encoder.encode(code.padEnd(TOTP_DIGITS, "\0").slice(0, TOTP_DIGITS));
  const wellFormed = code.length === TOTP_DIGITS && /^\d+$/.test(code);
  const found: number[] = [];
  for (const step of steps) {
    const same = equal(given, encoder.encode(hotp(secret, step)));
    if (same && wellFormed) found.push(step);
  }
  return found;
}

/** Whether `a` and `b` hold the same bytes, in time that depends only on their lengths. */
export function constantTimeEqual(a: Uint8Array, b: Uint8Array): boolean {
  if (a.length !== b.length) return false;
  return timingSafeEqual(a, b);
}

/** A new random TOTP secret, base32 as `users.<name>.totpSecret` and apps take it. */
export function newTotpSecret(): string {
  return base32Encode(new Uint8Array(randomBytes(TOTP_SECRET_BYTES)));
}

/**
 * The `otpauth://totp/` URI that authenticator apps import (as text or a QR
 * code), in the Key Uri Format: label `issuer:user`, SHA-1, 6 digits, 30 s.
 *
 * @example
 * ```ts
 * otpauthUri("JBSWY3DPEHPK3PXP", "alice", "capsule");
 * // "otpauth://totp/capsule:alice?secret=JBSWY3DPEHPK3PXP&issuer=capsule&algorithm=SHA1&digits=6&period=30"
 * ```
 */
export function otpauthUri(secret: string, user: string, issuer: string): string {
  const label = `${encodeURIComponent(issuer)}:${encodeURIComponent(user)}`;
  const query = new URLSearchParams({
    secret,
    issuer,
    algorithm: "SHA1",
    digits: String(TOTP_DIGITS),
    period: String(TOTP_PERIOD_SECONDS),
  });
  return `otpauth://totp/${label}?${query.toString().replaceAll("+", "%20")}`;
}
