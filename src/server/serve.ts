import type { ServeOptions, StdioClient } from "../cli/mod.ts";
import type { Config } from "../config/types.ts";
import { CapsuleError, describeError } from "../errors/mod.ts";
import { createLogger } from "../log/mod.ts";
import { DockerRuntime } from "../runtime/docker_runtime.ts";
import { StreamSocket } from "../ssh/mod.ts";
import { startServer } from "./start_server.ts";
import denoJson from "../../deno.json" with { type: "json" };

const STOP_SIGNALS = ["SIGINT", "SIGTERM"] as const;

/**
 * `capsule serve`: starts the server and runs until SIGINT or SIGTERM. Then
 * it stops accepting, tells users, lets sessions finish for
 * `server.drainTimeout` seconds (a second signal cuts that short), closes the
 * rest, removes every container and returns 0. SIGHUP reloads users, keys and
 * container settings without dropping live sessions.
 *
 * With `options.stdio` it serves the one connection on standard input and
 * output, and returns once that has closed and the user's persistent
 * container is removed or left to another process of the instance.
 *
 * @returns the process exit code
 */
export async function serve(config: Config, options?: ServeOptions): Promise<number> {
  const logger = createLogger({ level: config.log.level, format: config.log.format });
  // Listen for stop signals before anything else, so that a signal during
  // start-up still means a clean stop rather than the default exit.
  const stop = Promise.withResolvers<string>();
  const now = new AbortController();
  let stopping = false;
  for (const name of STOP_SIGNALS) {
    Deno.addSignalListener(name, () => {
      if (!stopping) {
        stopping = true;
        stop.resolve(name);
      } else if (!now.signal.aborted) {
        logger.info("server.shutdown_now", { signal: name });
        now.abort();
      }
    });
  }

  let server;
  try {
    server = await startServer(config, {
      logger,
      runtime: await DockerRuntime.open(config.docker),
      version: denoJson.version,
      ...(options?.stdio ? { listen: false } : {}),
    });
  } catch (error) {
    logger.error("server.start_failed", {
      ...(error instanceof CapsuleError ? { code: error.code } : {}),
      error: describeError(error),
    });
    return 1;
  }

  const running = server;
  const onHangup = () => {
    running.reopenLogs();
    if (!options) return;
    options.reload().then(
      (next) => running.reload(next),
      (error) => logger.error("config.reload_failed", { error: describeError(error) }),
    );
  };
  Deno.addSignalListener("SIGHUP", onHangup);

  const signal = options?.stdio
    ? await Promise.race([stop.promise, serveStdio(running, options.stdio)])
    : await stop.promise;
  logger.info("server.shutdown", { signal });
  await running.shutdown({ drainMs: config.server.drainTimeout * 1000, now: now.signal });
  Deno.removeSignalListener("SIGHUP", onHangup);
  return 0;
}

/**
 * Serves the connection on standard input and output; once it closed, waits
 * while this process keeps a persistent container for its grace period.
 *
 * @returns why the server stops
 */
async function serveStdio(
  server: { serveSocket(socket: StreamSocket): Promise<void>; settled(): Promise<void> },
  client: StdioClient,
): Promise<string> {
  const socket = new StreamSocket(Deno.stdin.readable, Deno.stdout.writable, {
    remoteAddress: client.remoteAddress ?? "stdio",
    ...(client.remotePort !== undefined ? { remotePort: client.remotePort } : {}),
    // With inetd and socket activation both are the connection's socket: the
    // client sees it close only once neither descriptor is open.
    onClose: () => {
      for (const stream of [Deno.stdin, Deno.stdout]) {
        try {
          stream.close();
        } catch {
          // Closed with its web stream already.
        }
      }
    },
  });
  await server.serveSocket(socket);
  await server.settled();
  return "connection_closed";
}
