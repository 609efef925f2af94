import assert from "node:assert/strict";

/** The specifiers of every module `entry` loads, as `deno info` resolves them. */
async function modulesLoadedBy(entry: string): Promise<string[]> {
  const out = await new Deno.Command(Deno.execPath(), {
    args: ["info", "--json", new URL(entry, import.meta.url).pathname],
    stdout: "piped",
    stderr: "piped",
  }).output();
  assert.equal(out.code, 0, new TextDecoder().decode(out.stderr));
  const info = JSON.parse(new TextDecoder().decode(out.stdout)) as {
    modules: { specifier: string }[];
  };
  return info.modules.map((m) => m.specifier);
}

Deno.test("src/runtime/mod.ts can be imported without loading dockerode", async () => {
  const loaded = await modulesLoadedBy("../../src/runtime/mod.ts");
  assert.ok(loaded.some((s) => s.endsWith("/src/runtime/labels.ts")), "LABELS is exported");
  assert.deepEqual(loaded.filter((s) => s.includes("dockerode")), []);
  // The check sees dockerode where it is loaded.
  const docker = await modulesLoadedBy("../../src/runtime/docker_runtime.ts");
  assert.ok(docker.some((s) => s.includes("dockerode")), docker.join("\n"));
});
