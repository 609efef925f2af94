/**
 * End to end: the documented commands start cleanly on a machine whose Deno
 * cache is empty (no "Ignored build scripts" warning box from ssh2's
 * optional native add-ons, which must stay unapproved: they crash Deno).
 */
import assert from "node:assert/strict";

const ROOT = new URL("../../", import.meta.url).pathname;

Deno.test("a fresh Deno cache starts capsule with no warning box", async () => {
  const cache = await Deno.makeTempDir({ prefix: "capsule-deno-dir-" });
  try {
    const out = await new Deno.Command(Deno.execPath(), {
      args: ["task", "start", "version"],
      cwd: ROOT,
      env: { DENO_DIR: cache, NO_COLOR: "1" },
      stdin: "null",
      stdout: "piped",
      stderr: "piped",
    }).output();
    const stderr = new TextDecoder().decode(out.stderr);
    assert.equal(out.code, 0, stderr);
    assert.match(new TextDecoder().decode(out.stdout), /^capsule \d+\.\d+\.\d+/);
    assert.doesNotMatch(stderr, /Warning|Ignored build scripts/, stderr);
  } finally {
    await Deno.remove(cache, { recursive: true });
  }
});
