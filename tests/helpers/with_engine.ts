/**
 * Runs a command against a test engine:
 *
 *     deno run -A tests/helpers/with_engine.ts podman -- deno test -A tests/e2e/...
 *
 * starts the engine (`podman`, `tls` or `docker`, see `test_engine.ts`),
 * copies the test images into it, runs the command with `DOCKER_HOST` (and
 * for `tls` `DOCKER_TLS_VERIFY` and `DOCKER_CERT_PATH`) pointing at it and
 * `ENGINE_UNDER_TEST` naming it, stops the engine, and exits with the
 * command's status.
 */
import { startEngine } from "./start_engine.ts";
import { isEngineKind } from "./test_engine.ts";

/** The images the end-to-end tests use. */
export const TEST_IMAGES = ["busybox:latest", "capsule-test-debian:latest"];

if (import.meta.main) {
  const [kind, separator, ...command] = Deno.args;
  if (kind === undefined || !isEngineKind(kind) || separator !== "--" || command.length === 0) {
    console.error("usage: with_engine.ts docker|podman|tls -- COMMAND [ARGS...]");
    Deno.exit(2);
  }
  const started = Date.now();
  const engine = await startEngine(kind, TEST_IMAGES);
  console.error(
    `with_engine: ${kind} ready in ${Date.now() - started} ms (${JSON.stringify(engine.env)})`,
  );
  let code = 1;
  try {
    const child = new Deno.Command(command[0]!, {
      args: command.slice(1),
      env: { ...engine.env, ENGINE_UNDER_TEST: kind },
      stdin: "inherit",
      stdout: "inherit",
      stderr: "inherit",
    }).spawn();
    // The engine must be stopped even when the run is interrupted.
    const forward = () => child.kill("SIGTERM");
    Deno.addSignalListener("SIGTERM", forward);
    Deno.addSignalListener("SIGINT", forward);
    code = (await child.status).code;
    Deno.removeSignalListener("SIGTERM", forward);
    Deno.removeSignalListener("SIGINT", forward);
  } finally {
    if (code !== 0) {
      console.error(
        `with_engine: the ${kind} engine's log ends:\n${
          (await engine.log()).split("\n").slice(-30).join("\n")
        }`,
      );
    }
    await engine.stop();
  }
  Deno.exit(code);
}
