import assert from "node:assert/strict";
import { createHash } from "node:crypto";
import { CapsuleError } from "../../src/errors/mod.ts";
import { findTools, TOOL_NAMES } from "../../src/tools/mod.ts";

/** Writes a fake build (one small executable per tool) into `dir`. */
async function fakeBuild(dir: string, content = (name: string) => `fake ${name}\n`) {
  await Deno.mkdir(`${dir}/bin`, { recursive: true });
  for (const name of TOOL_NAMES) {
    await Deno.writeTextFile(`${dir}/bin/${name}`, content(name), { mode: 0o755 });
    await Deno.chmod(`${dir}/bin/${name}`, 0o755);
  }
}

async function withTempDir(fn: (dir: string) => Promise<void>): Promise<void> {
  const dir = await Deno.realPath(await Deno.makeTempDir());
  try {
    await fn(dir);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
}

function sha256(text: string): string {
  return createHash("sha256").update(text).digest("hex");
}

Deno.test("findTools() reads CAPSULE_TOOLS_DIR and hashes every tool", async () => {
  await withTempDir(async (dir) => {
    await fakeBuild(`${dir}/build`);
    const tools = await findTools({ env: { CAPSULE_TOOLS_DIR: `${dir}/build` } });
    assert.ok(tools);
    assert.equal(tools.dir, `${dir}/build`);
    assert.deepEqual(
      tools.files,
      TOOL_NAMES.map((name) => ({
        name,
        path: `${dir}/build/bin/${name}`,
        sha256: sha256(`fake ${name}\n`),
      })),
    );
    assert.match(tools.hash, /^[0-9a-f]{12}$/);
  });
});

Deno.test("findTools() follows CAPSULE_TOOLS_CACHE/current to the build it points at", async () => {
  await withTempDir(async (dir) => {
    await fakeBuild(`${dir}/cache/0123abcd`);
    await Deno.symlink("0123abcd", `${dir}/cache/current`);
    const tools = await findTools({ env: { CAPSULE_TOOLS_CACHE: `${dir}/cache` } });
    assert.equal(tools?.dir, `${dir}/cache/0123abcd`);
    assert.equal(tools?.files[0]?.path, `${dir}/cache/0123abcd/bin/sftp-server`);
  });
});

Deno.test("findTools() prefers CAPSULE_TOOLS_DIR over the cache", async () => {
  await withTempDir(async (dir) => {
    await fakeBuild(`${dir}/explicit`);
    await fakeBuild(`${dir}/cache/key`);
    await Deno.symlink("key", `${dir}/cache/current`);
    const tools = await findTools({
      env: { CAPSULE_TOOLS_DIR: `${dir}/explicit`, CAPSULE_TOOLS_CACHE: `${dir}/cache` },
    });
    assert.equal(tools?.dir, `${dir}/explicit`);
  });
});

Deno.test("findTools() returns undefined when the cache holds no build", async () => {
  await withTempDir(async (dir) => {
    assert.equal(await findTools({ env: { CAPSULE_TOOLS_CACHE: `${dir}/none` } }), undefined);
    assert.equal(
      await findTools({ env: { CAPSULE_TOOLS_CACHE: dir, CAPSULE_TOOLS_DIR: "" } }),
      undefined,
    );
  });
});

Deno.test("findTools() refuses an incomplete build", async (t) => {
  const cases: [string, (dir: string) => Promise<void>][] = [
    ["a missing CAPSULE_TOOLS_DIR", (dir) => Deno.remove(dir, { recursive: true })],
    ["a missing tool", (dir) => Deno.remove(`${dir}/bin/rsync`)],
    ["a tool that is not executable", (dir) => Deno.chmod(`${dir}/bin/socat`, 0o644)],
    ["a tool that is a directory", async (dir) => {
      await Deno.remove(`${dir}/bin/scp`);
      await Deno.mkdir(`${dir}/bin/scp`);
    }],
  ];
  for (const [name, damage] of cases) {
    await t.step(name, async () => {
      await withTempDir(async (dir) => {
        await fakeBuild(`${dir}/build`);
        await damage(`${dir}/build`);
        await assert.rejects(
          findTools({ env: { CAPSULE_TOOLS_DIR: `${dir}/build` } }),
          (error) => error instanceof CapsuleError && error.code === "TOOLS_INCOMPLETE",
        );
      });
    });
  }
});

Deno.test("findTools() hash follows the content of the binaries only", async () => {
  await withTempDir(async (dir) => {
    await fakeBuild(`${dir}/a`);
    await fakeBuild(`${dir}/b`);
    await fakeBuild(`${dir}/c`, (name) => name === "socat" ? "another socat\n" : `fake ${name}\n`);
    const hashOf = async (sub: string) =>
      (await findTools({ env: { CAPSULE_TOOLS_DIR: `${dir}/${sub}` } }))?.hash;
    assert.equal(await hashOf("a"), await hashOf("b"));
    assert.notEqual(await hashOf("a"), await hashOf("c"));
  });
});

Deno.test("findTools() falls back to the build a compiled capsule embeds, modes or not", async () => {
  await withTempDir(async (dir) => {
    await fakeBuild(`${dir}/embedded`);
    await Deno.chmod(`${dir}/embedded/bin/socat`, 0o644);
    const env = { CAPSULE_TOOLS_CACHE: `${dir}/none` };
    const tools = await findTools({ env, embedded: `${dir}/embedded` });
    assert.equal(tools?.dir, `${dir}/embedded`);
    assert.equal(tools?.files.length, TOOL_NAMES.length);
    // The cache wins over the embedded build.
    await fakeBuild(`${dir}/cache/build`);
    await Deno.symlink(`${dir}/cache/build`, `${dir}/cache/current`);
    const cached = await findTools({
      env: { CAPSULE_TOOLS_CACHE: `${dir}/cache` },
      embedded: `${dir}/embedded`,
    });
    assert.equal(cached?.dir, `${dir}/cache/build`);
    assert.equal(await findTools({ env, embedded: `${dir}/nothing` }), undefined);
  });
});
