import { randomBytes } from "node:crypto";
import type { UserConfig } from "../config/types.ts";
import { describeError } from "../errors/mod.ts";
import { type Logger, silentLogger } from "../log/mod.ts";
import { base32Decode } from "./base32.ts";
import type { Identity } from "./identity.ts";
import type { Challenge, ChallengeOutcome, SecondFactor } from "./second_factor.ts";
import {
  matchingSteps,
  type MatchOptions,
  TOTP_MIN_SECRET_BYTES,
  TOTP_SECRET_BYTES,
  totpStep,
} from "./totp.ts";

/** What the client shows; `sshpass -P "Verification code"` answers it. */
export const TOTP_PROMPT = "Verification code: ";

/** Steps either side of now that are accepted: ±30 s of clock drift. */
const WINDOW = 1;

/** Options of {@linkcode TotpFactor}. */
export interface TotpFactorOptions {
  /** The configured user of a name, or `undefined`. */
  userOf(username: string): UserConfig | undefined;
  /** Reads `totpSecretFile` (default `Deno.readTextFile`). */
  readFile?: (path: string) => Promise<string>;
  /** Unix milliseconds now; a seam for tests. */
  now?: () => number;
  /** Where unreadable secret files are reported (default: nowhere). */
  logger?: Logger;
  /** Compares codes (default constant-time); a seam for tests. */
  equal?: MatchOptions["equal"];
}

/**
 * The TOTP second factor (RFC 6238: HMAC-SHA-1, 30 s, 6 digits, one step
 * either side) for users with `totpSecret` or `totpSecretFile`. A code is
 * good once: the last accepted step of each user is remembered (in memory,
 * so a restart forgets it) and no code of that step or an earlier one is
 * accepted again.
 */
export class TotpFactor implements SecondFactor {
  readonly name = "totp";
  readonly #userOf: (username: string) => UserConfig | undefined;
  readonly #readFile: (path: string) => Promise<string>;
  readonly #now: () => number;
  readonly #logger: Logger;
  readonly #match: MatchOptions;
  /** The last step accepted, per user name. */
  readonly #lastStep = new Map<string, number>();
  /** Checked against when a user has no usable secret, for the same work. */
  readonly #dummySecret = new Uint8Array(randomBytes(TOTP_SECRET_BYTES));

  /** @param options how to find users and their secrets */
  constructor(options: TotpFactorOptions) {
    this.#userOf = options.userOf;
    this.#readFile = options.readFile ?? ((path) => Deno.readTextFile(path));
    this.#now = options.now ?? Date.now;
    this.#logger = options.logger ?? silentLogger();
    this.#match = options.equal ? { equal: options.equal } : {};
  }

  /** Whether the user has a secret configured (inline or as a file). */
  required(identity: Identity): boolean {
    const user = this.#userOf(identity.username);
    return user?.totpSecret !== undefined || user?.totpSecretFile !== undefined;
  }

  /** One prompt, `Verification code: `, without echo. */
  challenge(identity: Identity): Promise<Challenge> {
    return Promise.resolve({
      prompts: [{ prompt: TOTP_PROMPT, echo: false }],
      answer: ([code = ""]) => this.verify(identity.username, code),
    });
  }

  /**
   * Checks `code` for `username`. A user without a usable secret costs the
   * same work (against a random secret) and is refused.
   */
  async verify(username: string, code: string): Promise<ChallengeOutcome> {
    const secret = await this.#secretOf(username);
    const now = totpStep(this.#now());
    const steps = Array.from({ length: 2 * WINDOW + 1 }, (_, i) => now - WINDOW + i);
    const matched = matchingSteps(secret ?? this.#dummySecret, code.trim(), steps, this.#match);
    if (secret === null) return { result: "refused", reason: "no usable TOTP secret" };
    // No await from here on: two logins with one code cannot both pass.
    const last = this.#lastStep.get(username) ?? -Infinity;
    const fresh = matched.filter((step) => step > last);
    if (fresh.length === 0) {
      return {
        result: "refused",
        reason: matched.length > 0 ? "TOTP code already used" : "wrong TOTP code",
      };
    }
    this.#lastStep.set(username, Math.max(...fresh));
    return { result: "accepted" };
  }

  /** The user's secret, or `null` when there is none or it cannot be read. */
  async #secretOf(username: string): Promise<Uint8Array | null> {
    const user = this.#userOf(username);
    let text = user?.totpSecret;
    const path = user?.totpSecretFile;
    if (text === undefined && path !== undefined) {
      try {
        text = await this.#readFile(path);
      } catch (error) {
        this.#logger.warn("auth.totp_secret_unreadable", {
          user: username,
          path,
          error: describeError(error),
        });
        return null;
      }
    }
    if (text === undefined) return null;
    const secret = base32Decode(text.trim());
    if (secret === null || secret.length < TOTP_MIN_SECRET_BYTES) {
      // Never the text itself: it may be a secret with one typo.
      this.#logger.warn("auth.totp_secret_invalid", { user: username, ...(path ? { path } : {}) });
      return null;
    }
    return secret;
  }
}
