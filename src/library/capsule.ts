import { EphemeralKeys } from "../auth/mod.ts";
import { type CapsuleClient, openClient, type OpenClientOptions } from "../client/mod.ts";
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
   * @returns resolves once the connection has closed, its sessions have
   *   ended and their containers have been given back (removed, in `session` mode)
   */
  serveConnection(
    stream: { readable: ReadableStream<Uint8Array>; writable: WritableStream<Uint8Array> },
    options?: { remoteAddress?: string; remotePort?: number },
  ): Promise<void>;
  /**
   * Logs `user` in over an in-process connection (no TCP, no key files): an
   * ed25519 key is made for this one login and accepted for `user` alone
   * while it runs. The user must be in the config's `users` (one with a
   * second factor is refused); their limits and container lifecycle apply
   * as to any connection, and `close()` on the client closes all it opened.
   *
   * @throws {ClientError} `LOGIN_FAILED` when the login is refused
   *
   * @example
   * ```ts
   * await using client = await capsule.openClient("alice");
   * const result = await client.exec("echo hi >&2; exit 3");
   * // result.status === 3, new TextDecoder().decode(result.stderr) === "hi\n"
   * ```
   */
  openClient(user: string, options?: OpenClientOptions): Promise<CapsuleClient>;
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
  const keys = new EphemeralKeys();
  const server: RunningServer = await startServer(loaded, {
    logger,
    ephemeralKeys: keys,
    runtime: await DockerRuntime.open(loaded.docker),
    version: denoJson.version,
    ...(options.listen === false ? { listen: false } : {}),
  });
  let ports = 0;
  const serveConnection: Capsule["serveConnection"] = (stream, client = {}) => {
    // Distinct ports keep concurrent streams apart until their handshakes.
    const socket = new StreamSocket(stream.readable, stream.writable, {
      remoteAddress: client.remoteAddress ?? "stream",
      remotePort: client.remotePort ?? ++ports,
    });
    return server.serveSocket(socket);
  };
  return {
    address: server.address,
    serveConnection,
    openClient: (user, clientOptions) =>
      openClient({ keys, serve: serveConnection }, user, clientOptions),
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
