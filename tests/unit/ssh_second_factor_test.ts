import assert from "node:assert/strict";
import type { Challenge, ChallengeOutcome, Prompt, SecondFactor } from "../../src/auth/mod.ts";
import { askSecondFactor, type Prompter } from "../../src/ssh/_second_factor.ts";

const ALICE = { username: "alice", method: "password" } as const;

/** A keyboard-interactive client that answers each round from `replies`, recording the questions. */
function client(replies: (string[] | Error)[]) {
  const asked: { prompts: Prompt[]; title: string; instructions: string }[] = [];
  const prompter: Prompter = {
    prompt(prompts, title, instructions, callback) {
      asked.push({ prompts, title, instructions });
      const reply = replies.shift() ?? new Error("no more replies");
      queueMicrotask(() => callback(reply));
    },
  };
  return { prompter, asked };
}

/** A factor whose rounds are given: each checks its answers, or asks the next round. */
function factor(
  rounds: ((answers: readonly string[]) => ChallengeOutcome | "next")[],
): SecondFactor {
  const round = (i: number): Challenge => ({
    title: `round ${i}`,
    prompts: [{ prompt: `Question ${i}: `, echo: i > 0 }],
    answer: (answers) => {
      const outcome = rounds[i]!(answers);
      return Promise.resolve(
        outcome === "next" ? { result: "continue", challenge: round(i + 1) } : outcome,
      );
    },
  });
  return { name: "test", required: () => true, challenge: () => Promise.resolve(round(0)) };
}

Deno.test("askSecondFactor() accepts when the factor accepts the answers", async () => {
  const { prompter, asked } = client([["123456"]]);
  const seen: (readonly string[])[] = [];
  const result = await askSecondFactor(
    prompter,
    factor([(answers) => (seen.push(answers), { result: "accepted" })]),
    ALICE,
  );
  assert.deepEqual(result, { ok: true });
  assert.deepEqual(seen, [["123456"]]);
  assert.deepEqual(asked, [{
    prompts: [{ prompt: "Question 0: ", echo: false }],
    title: "round 0",
    instructions: "",
  }]);
});

Deno.test("askSecondFactor() refuses with the factor's reason", async () => {
  const { prompter } = client([["000000"]]);
  const result = await askSecondFactor(
    prompter,
    factor([() => ({ result: "refused", reason: "wrong TOTP code" })]),
    ALICE,
  );
  assert.deepEqual(result, { ok: false, reason: "wrong TOTP code", aborted: false });
});

Deno.test("askSecondFactor() asks further rounds when the factor continues", async () => {
  const { prompter, asked } = client([["a"], ["b"]]);
  const result = await askSecondFactor(
    prompter,
    factor([
      () => "next" as const,
      (answers) =>
        answers[0] === "b" ? { result: "accepted" } : { result: "refused", reason: "no" },
    ]),
    ALICE,
  );
  assert.deepEqual(result, { ok: true });
  assert.deepEqual(asked.map((a) => a.title), ["round 0", "round 1"]);
});

Deno.test("askSecondFactor() checks nothing when the client aborts or answers wrongly", async (t) => {
  await t.step("aborted by another request", async () => {
    let checked = false;
    const { prompter } = client([new Error("Authentication request aborted")]);
    const result = await askSecondFactor(
      prompter,
      factor([() => (checked = true, { result: "accepted" })]),
      ALICE,
    );
    assert.deepEqual(result, { ok: false, reason: "aborted", aborted: true });
    assert.equal(checked, false);
  });
  await t.step("not one answer per prompt", async () => {
    for (const answers of [[], ["1", "2"]]) {
      const { prompter } = client([answers]);
      const result = await askSecondFactor(
        prompter,
        factor([() => ({ result: "accepted" })]),
        ALICE,
      );
      assert.deepEqual(result, { ok: false, reason: "wrong number of answers", aborted: false });
    }
  });
  await t.step("a factor that never stops asking", async () => {
    const { prompter } = client(Array.from({ length: 20 }, () => ["x"]));
    const forever = Array.from(
      { length: 20 },
      () => () => "next" as const,
    );
    const result = await askSecondFactor(prompter, factor(forever), ALICE);
    assert.deepEqual(result, { ok: false, reason: "too many rounds of questions", aborted: false });
  });
});
