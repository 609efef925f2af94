import type { Identity, Prompt, SecondFactor } from "../auth/mod.ts";

/** The part of ssh2's keyboard-interactive context that puts questions. */
export interface Prompter {
  prompt(
    prompts: Prompt[],
    title: string,
    instructions: string,
    callback: (answers: string[] | Error) => void,
  ): void;
}

/** How one keyboard-interactive request for a second factor ended. */
export type SecondFactorResult =
  | { ok: true }
  /** `aborted`: the client sent another request before answering; nothing was checked. */
  | { ok: false; reason: string; aborted: boolean };

/** Most rounds of questions one request may take, so that a factor cannot loop forever. */
const MAX_ROUNDS = 8;

/**
 * Asks `factor`'s questions for `identity` through one keyboard-interactive
 * request, round after round, until the factor accepts or refuses. What the
 * user types is handed to the factor and nowhere else.
 */
export async function askSecondFactor(
  ctx: Prompter,
  factor: SecondFactor,
  identity: Identity,
): Promise<SecondFactorResult> {
  let challenge = await factor.challenge(identity);
  for (let round = 0; round < MAX_ROUNDS; round++) {
    const answers = await new Promise<string[] | Error>((resolve) => {
      ctx.prompt(
        challenge.prompts.map(({ prompt, echo }) => ({ prompt, echo })),
        challenge.title ?? "",
        challenge.instructions ?? "",
        resolve,
      );
    });
    // ssh2 hands an Error to the callback when a new request aborts this one.
    if (answers instanceof Error) return { ok: false, reason: "aborted", aborted: true };
    if (!Array.isArray(answers) || answers.length !== challenge.prompts.length) {
      return { ok: false, reason: "wrong number of answers", aborted: false };
    }
    const outcome = await challenge.answer(answers);
    if (outcome.result === "accepted") return { ok: true };
    if (outcome.result === "refused") return { ok: false, reason: outcome.reason, aborted: false };
    challenge = outcome.challenge;
  }
  return { ok: false, reason: "too many rounds of questions", aborted: false };
}
