import type { Identity } from "./identity.ts";

/** One question of a round, as SSH's keyboard-interactive asks it (RFC 4256). */
export interface Prompt {
  /** The text shown, e.g. `Verification code: `. */
  prompt: string;
  /** Whether the client may show what is typed (false for secrets). */
  echo: boolean;
}

/** What a round's answers lead to. `reason` is for logs: never an answer itself. */
export type ChallengeOutcome =
  | { result: "accepted" }
  | { result: "refused"; reason: string }
  /** Another round of questions (a webhook asking more, say). */
  | { result: "continue"; challenge: Challenge };

/** One round of questions put to a user, and what to make of the answers. */
export interface Challenge {
  /** A heading clients may show above the prompts; empty for none. */
  title?: string;
  /** Text clients may show before the prompts; empty for none. */
  instructions?: string;
  prompts: readonly Prompt[];
  /**
   * Checks the answers, one per prompt, in order. Must cost the same
   * whatever makes it refuse, so that timing reveals nothing.
   */
  answer(responses: readonly string[]): Promise<ChallengeOutcome>;
}

/**
 * A step a user must pass after a first factor (a password, a key, a
 * certificate): TOTP, or questions from an outside service. The SSH layer
 * asks it through keyboard-interactive, the way OpenSSH's
 * `AuthenticationMethods publickey,keyboard-interactive` does: the first
 * factor gets "partial success", then the client is asked the prompts.
 */
export interface SecondFactor {
  /** A short name for logs and the audit, e.g. `totp`. */
  readonly name: string;
  /** Whether `identity`, which passed a first factor, must pass this step too. */
  required(identity: Identity): boolean;
  /** The first round of questions for `identity`. */
  challenge(identity: Identity): Promise<Challenge>;
}

/**
 * The questions an outside service (the auth webhook) asked after a first
 * factor: a step for exactly the logins that carry them.
 */
export const outsideChallengeFactor: SecondFactor = {
  name: "webhook",
  required: (identity) => identity.pendingChallenge !== undefined,
  challenge: (identity) => Promise.resolve(identity.pendingChallenge!),
};
