import type { Config } from "../config/types.ts";
import { verifyPassword } from "./password_hash.ts";

/** Passwords found in every tutorial and every credential-stuffing list. */
const WELL_KNOWN = ["demo", "password", "123456", "root", "admin"];

/**
 * Names of the users whose password is a well-known one ("demo", "password",
 * "123456", "root", "admin") or their own user name. The server refuses to
 * listen on a non-loopback address while any exist.
 *
 * @returns user names in config order; empty when all passwords are fine
 *
 * @example
 * ```ts
 * const weak = await findWellKnownPasswords(config);
 * if (weak.length > 0) throw new Error(`Weak passwords: ${weak.join(", ")}`);
 * ```
 */
export async function findWellKnownPasswords(config: Pick<Config, "users">): Promise<string[]> {
  const checks = Object.entries(config.users).map(async ([name, user]) => {
    const hash = user.passwordHash;
    if (hash === undefined) return null;
    const candidates = new Set([...WELL_KNOWN, name]);
    for (const candidate of candidates) {
      if (await verifyPassword(candidate, hash)) return name;
    }
    return null;
  });
  return (await Promise.all(checks)).filter((name) => name !== null);
}
