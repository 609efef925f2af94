import type { Config } from "../config/types.ts";
import { CapsuleError, describeError } from "../errors/mod.ts";
import { createLogger } from "../log/mod.ts";
import { DockerRuntime } from "../runtime/mod.ts";
import { startServer } from "./start_server.ts";

const STOP_SIGNALS = ["SIGINT", "SIGTERM"] as const;

/**
 * `capsule serve`: starts the server and runs until SIGINT or SIGTERM, then
 * stops accepting, ends the sessions, removes their containers and returns 0.
 * Sessions are not drained: the stop is immediate, so a second signal has
 * nothing to shorten and is only logged.
 *
 * @returns the process exit code
 */
export async function serve(config: Config): Promise<number> {
  const logger = createLogger({ level: config.log.level, format: config.log.format });
  let server;
  try {
    server = await startServer(config, { logger, runtime: new DockerRuntime(config.docker.host) });
  } catch (error) {
    logger.error("server.start_failed", {
      ...(error instanceof CapsuleError ? { code: error.code } : {}),
      error: describeError(error),
    });
    return 1;
  }

  const signal = await new Promise<string>((resolve) => {
    for (const name of STOP_SIGNALS) Deno.addSignalListener(name, () => resolve(name));
  });
  logger.info("server.shutdown", { signal });
  for (const name of STOP_SIGNALS) {
    Deno.addSignalListener(
      name,
      () => logger.info("server.shutdown_in_progress", { signal: name }),
    );
  }
  await server.close();
  return 0;
}
