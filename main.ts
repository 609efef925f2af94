/**
 * capsule: an SSH server that gives every session its own fresh container.
 *
 * The composition root: parses the command line and hands `serve` the
 * validated config; `src/server` builds the layers.
 *
 * @module
 */
import denoJson from "./deno.json" with { type: "json" };
import { hashPassword } from "./src/auth/mod.ts";
import { runCli } from "./src/cli/mod.ts";
import { flushLogs } from "./src/log/mod.ts";
import { probeDiskQuota, serve } from "./src/server/mod.ts";
import { generateHostKey, spawnSession } from "./src/ssh/mod.ts";

if (import.meta.main) {
  const code = await runCli(Deno.args, {
    serve,
    generateHostKey,
    hashPassword,
    probeDiskQuota,
    spawn: spawnSession,
    version: denoJson.version,
  });
  // Log lines are written asynchronously: the last ones must not be lost.
  await flushLogs();
  Deno.exit(code);
}
