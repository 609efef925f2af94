import assert from "node:assert/strict";
import { InitFailureProbe } from "../../src/session/_init_failure.ts";
import type { OutputChunk } from "../../src/runtime/mod.ts";

async function* chunks(parts: [OutputChunk["stream"], string][]): AsyncGenerator<OutputChunk> {
  for (const [stream, text] of parts) yield { stream, data: new TextEncoder().encode(text) };
}

async function run(parts: [OutputChunk["stream"], string][]) {
  const probe = new InitFailureProbe();
  let passed = "";
  for await (const c of probe.watch(chunks(parts))) passed += new TextDecoder().decode(c.data);
  return { failure: probe.failure, passed };
}

Deno.test("InitFailureProbe swallows the init's exec failure however it is split", async (t) => {
  const line = "[FATAL tini (7)] exec /bin/bash failed: No such file or directory\n";
  for (const cut of [1, 5, 13, 30, line.length - 1]) {
    await t.step(`cut at ${cut}`, async () => {
      const result = await run([["stderr", line.slice(0, cut)], ["stderr", line.slice(cut)]]);
      assert.deepEqual(result, { failure: "No such file or directory", passed: "" });
    });
  }
});

Deno.test("InitFailureProbe passes ordinary output through untouched", async (t) => {
  const cases: [string, [OutputChunk["stream"], string][]][] = [
    ["plain output", [["stdout", "hello\n"], ["stderr", "oops\n"]]],
    ["a look-alike prefix", [["stderr", "[FATAL"], ["stderr", " other]\n"], ["stdout", "x"]]],
    ["output without a newline", [["stdout", "[FATAL tini ("]]],
  ];
  for (const [name, parts] of cases) {
    await t.step(name, async () => {
      const result = await run(parts);
      assert.equal(result.failure, undefined);
      assert.equal(result.passed, parts.map(([, text]) => text).join(""));
    });
  }
});
