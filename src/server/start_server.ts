import { Authenticator, findWellKnownPasswords } from "../auth/mod.ts";
import { isLoopbackHost, parseListen, parseMaxStartups, resolveContainer } from "../config/mod.ts";
import type { Config } from "../config/types.ts";
import { CapsuleError, describeError } from "../errors/mod.ts";
import type { Logger } from "../log/mod.ts";
import type { ContainerRuntime } from "../runtime/mod.ts";
import {
  composeSession,
  containerHandler,
  EnvAllowList,
  logSession,
  recoverErrors,
  Session,
} from "../session/mod.ts";
import { type ConnectionLimits, loadHostKeys, randomId, SshServer } from "../ssh/mod.ts";

/** A started capsule server. */
export interface RunningServer {
  /** The address actually bound (the port is real even when 0 was asked). */
  readonly address: { host: string; port: number };
  /** Stops accepting, ends every session and waits until their containers are removed. */
  close(): Promise<void>;
}

/** Options of {@linkcode startServer}. */
export interface StartServerOptions {
  logger: Logger;
  runtime: ContainerRuntime;
}

/**
 * Builds capsule's layers in dependency order and starts listening:
 * host keys, authenticator, session handler chain (first listed = outermost),
 * then the SSH server.
 *
 * @throws {CapsuleError} when a host key cannot be used or a well-known
 *   password is configured on a non-loopback address
 */
export async function startServer(
  config: Config,
  options: StartServerOptions,
): Promise<RunningServer> {
  const { logger, runtime } = options;
  const listen = parseListen(config.server.listen);
  if (!isLoopbackHost(listen.host)) {
    const weak = await findWellKnownPasswords(config);
    if (weak.length > 0) {
      throw new CapsuleError(
        "WEAK_PASSWORD_ON_PUBLIC_ADDRESS",
        `Refusing to listen on "${config.server.listen}": user ${
          weak.map((u) => `"${u}"`).join(", ")
        } has a well-known password; change it ("capsule hash-password") or listen on 127.0.0.1`,
      );
    }
  }
  runtime.ping().catch((error) => {
    logger.warn("engine.unreachable", { error: describeError(error) });
  });

  const hostKeys = await loadHostKeys({
    paths: config.server.hostKeys,
    stateDir: config.server.stateDir,
    logger,
  });
  const authenticator = new Authenticator(config, { logger });
  const envAllow = new EnvAllowList(config.session.envAllow);
  const handler = composeSession(
    [logSession(), recoverErrors()],
    containerHandler(runtime, { containerFor: (user) => resolveContainer(config, user) }),
  );
  const server = new SshServer({
    hostKeys,
    authenticator,
    logger,
    banner: config.server.banner,
    limits: connectionLimits(config),
    openSession: (connection) => {
      const id = randomId();
      return new Session({
        id,
        connectionId: connection.connectionId,
        identity: connection.identity,
        logger: connection.logger.child({ session: id }),
        envAllow,
        handler,
      });
    },
  });
  const address = await server.listen(listen.host, listen.port);
  logger.info("server.listening", { host: address.host, port: address.port });

  return {
    address,
    async close() {
      await server.close();
      logger.info("server.stopped");
    },
  };
}

/** The SSH server's limits from the `server` settings (seconds become milliseconds). */
export function connectionLimits(config: Config): ConnectionLimits {
  const server = config.server;
  return {
    loginTimeoutMs: server.loginTimeout * 1000,
    maxAuthTries: server.maxAuthTries,
    // Validated by the config schema.
    maxStartups: parseMaxStartups(server.maxStartups)!,
    maxStartupsPerSource: server.maxStartupsPerSource,
    maxSessions: server.maxSessions,
    idleTimeoutMs: server.idleTimeout * 1000,
    keepaliveIntervalMs: server.keepaliveInterval * 1000,
    keepaliveCountMax: server.keepaliveCountMax,
    penalties: server.penalties,
  };
}
