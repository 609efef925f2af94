import { type Config, loadConfig } from "../config/mod.ts";
import { createLogger, type Logger } from "../log/mod.ts";
import { DockerRuntime } from "../runtime/docker_runtime.ts";
import { type RunningServer, startServer } from "../server/start_server.ts";
import { StreamSocket } from "../ssh/mod.ts";
import denoJson from "../../deno.json" with { type: "json" };

/** Options of {@linkcode startCapsule}. */
export interface StartCapsuleOptions {
  /**
   * Whether to listen on `server.listen` (default `true`). Without it capsule
   * serves only the streams given to {@linkcode Capsule.serveConnection}.
   */
  listen?: boolean;
  /** Where log records go (default: JSON lines on standard error, as `log` says). */
  logger?: Logger;
}

/** A running capsule. */
export interface Capsule {
  /** The address it listens on, with the real port; `undefined` with `listen: false`. */
  readonly address: { host: string; port: number } | undefined;
  /**
   * Serves one SSH connection over a duplex stream (a pipe, a WebSocket's
   * streams, a `Deno.Conn`), with the same authentication, limits and
   * container lifecycle as a TCP connection.
   *
   * @param stream the client's bytes (`readable`) and where the server's go (`writable`)
   * @param options the client's address, for logs and source-address checks
   * @returns resolves once the connection has closed
   */
  serveConnection(
    stream: { readable: ReadableStream<Uint8Array>; writable: WritableStream<Uint8Array> },
    options?: { remoteAddress?: string; remotePort?: number },
  ): Promise<void>;
  /** Reloads users, keys and container settings; live sessions carry on. */
  reload(config: Config): void;
  /**
   * Stops: no new connections, sessions run on for `drainMs` (default 0),
   * then every container goes.
   */
  close(options?: { drainMs?: number }): Promise<void>;
}

/**
 * Starts capsule from code, with a config object (validated as a file is,
 * over the built-in defaults) or the path of a YAML file.
 *
 * @throws {ConfigError} for an invalid config
 * @throws {CapsuleError} when it cannot start (a host key, the state directory)
 *
 * @example Serve one connection over a pair of streams
 * ```ts
 * import { startCapsule } from "@capsule/server";
 *
 * const capsule = await startCapsule("/etc/capsule/config.yaml", { listen: false });
 * const conn = await Deno.connect({ hostname: "bastion.internal", port: 7000 });
 * await capsule.serveConnection(conn, { remoteAddress: "203.0.113.7" });
 * await capsule.close();
 * ```
 */
export async function startCapsule(
  config: Record<string, unknown> | string,
  options: StartCapsuleOptions = {},
): Promise<Capsule> {
  const loaded = await loadFrom(config);
  const logger = options.logger ??
    createLogger({ level: loaded.log.level, format: loaded.log.format });
  const server: RunningServer = await startServer(loaded, {
    logger,
    runtime: await DockerRuntime.open(loaded.docker),
    version: denoJson.version,
    ...(options.listen === false ? { listen: false } : {}),
  });
  let ports = 0;
  return {
    address: server.address,
    serveConnection(stream, client = {}) {
      // Distinct ports keep concurrent streams apart until their handshakes.
      const socket = new StreamSocket(stream.readable, stream.writable, {
        remoteAddress: client.remoteAddress ?? "stream",
        remotePort: client.remotePort ?? ++ports,
      });
      return server.serveSocket(socket);
    },
    reload: (next) => server.reload(next),
    close: ({ drainMs = 0 } = {}) => server.shutdown({ drainMs }),
  };
}

async function loadFrom(config: Record<string, unknown> | string): Promise<Config> {
  // Only HOME, for "~": a program's CAPSULE_* variables are its own business.
  const home = Deno.env.get("HOME");
  const env = home !== undefined ? { HOME: home } : {};
  return typeof config === "string"
    ? await loadConfig({ file: config, env })
    : await loadConfig({ values: config, env });
}
