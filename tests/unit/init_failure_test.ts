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
  return { failure: probe.failure, passed, probe };
}

Deno.test("InitFailureProbe swallows the init's exec failure however it is split", async (t) => {
  const line = "[FATAL tini (7)] exec /bin/bash failed: No such file or directory\n";
  for (const cut of [1, 5, 13, 30, line.length - 1]) {
    await t.step(`cut at ${cut}`, async () => {
      const { failure, passed } = await run([
        ["stderr", line.slice(0, cut)],
        ["stderr", line.slice(cut)],
      ]);
      assert.deepEqual({ failure, passed }, { failure: "No such file or directory", passed: "" });
    });
  }
});

Deno.test("InitFailureProbe knows each init's line and exit code", async (t) => {
  const cases: [string, string, number][] = [
    ["docker-init", "[FATAL tini (7)] exec /bin/zsh failed: No such file or directory\n", 127],
    [
      "Podman's catatonit",
      "ERROR (catatonit:6): failed to exec pid1: No such file or directory\n",
      1,
    ],
    [
      "a TTY's line end",
      "ERROR (catatonit:6): failed to exec pid1: No such file or directory\r\n",
      1,
    ],
  ];
  for (const [name, line, code] of cases) {
    await t.step(name, async () => {
      const { failure, passed, probe } = await run([["stderr", line]]);
      assert.deepEqual({ failure, passed }, { failure: "No such file or directory", passed: "" });
      assert.equal(probe.explains(code), true);
      assert.equal(probe.explains(code === 1 ? 127 : 1), false);
      assert.equal(probe.explains(0), false);
    });
  }
});

Deno.test("InitFailureProbe explains no exit code when no init failed", async () => {
  const { probe } = await run([["stderr", "sh: oops\n"]]);
  assert.equal(probe.explains(127), false);
  assert.equal(probe.explains(1), false);
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
