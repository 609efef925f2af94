/**
 * capsule must not read files beside its source at run time (a compiled
 * binary has none): its module graph, copied to a directory outside the
 * checkout, serves a session while reading the checkout is denied.
 */
import assert from "node:assert/strict";
import { stringify } from "yaml";
import { Background } from "../helpers/background.ts";
import { demoPasswordHash } from "../helpers/demo_capsule.ts";
import { assertNoContainersLeft, requireEngine } from "../helpers/docker.ts";
import { ssh } from "../helpers/ssh_client.ts";

await requireEngine();

const ROOT = new URL("../../", import.meta.url).pathname.replace(/\/$/, "");

/** Copies what `deno run main.ts` needs: the entry point, `src/`, the config and the lock. */
async function copyModuleGraph(to: string): Promise<void> {
  for (const file of ["main.ts", "deno.json", "deno.lock"]) {
    await Deno.copyFile(`${ROOT}/${file}`, `${to}/${file}`);
  }
  const copy = new Deno.Command("cp", { args: ["-R", `${ROOT}/src`, `${to}/src`] });
  assert.equal((await copy.output()).code, 0);
}

Deno.test("capsule runs from a copy of its module graph outside the checkout and serves a session", async () => {
  const dir = await Deno.makeTempDir({ prefix: "capsule-relocated-" });
  assert.ok(!dir.startsWith(`${ROOT}/`));
  const instance = `relocated-${crypto.randomUUID().slice(0, 8)}`;
  await copyModuleGraph(dir);
  await Deno.writeTextFile(
    `${dir}/config.yaml`,
    stringify({
      server: { listen: "127.0.0.1:0", stateDir: `${dir}/state`, instance },
      log: { level: "info", format: "json" },
      users: { demo: { passwordHash: await demoPasswordHash() } },
    }),
  );
  const server = new Background([
    Deno.execPath(),
    "run",
    "--cached-only",
    "--allow-net",
    "--allow-read",
    `--deny-read=${ROOT}`,
    "--allow-write",
    `--deny-write=${ROOT}`,
    "--allow-env",
    "--allow-sys",
    `${dir}/main.ts`,
    "serve",
    "--config",
    `${dir}/config.yaml`,
  ], { env: { ...Deno.env.toObject(), NO_COLOR: "1", PWD: dir } });
  try {
    const [, port] = await server.waitFor(/"event":"server.listening".*?"port":(\d+)/, "stderr");
    const result = await ssh(
      { port: Number(port), user: "demo", password: "s3cret" },
      "echo relocated; ls /.capsule/bin | grep -c sftp-server",
    );
    assert.equal(result.stdout, "relocated\n1\n", result.stderr + server.stderr);
    assert.equal(result.code, 0);
    assert.doesNotMatch(server.stderr, /NotCapable|PermissionDenied|Requires read access/);
  } finally {
    await server.stop();
    await assertNoContainersLeft(15_000, instance);
    await Deno.remove(dir, { recursive: true });
  }
});
