import { resolve } from "node:path";
import { auditConnections, AuditedRuntime, auditPlacement, auditTunnels } from "../audit/mod.ts";
import { Authenticator, type EphemeralKeys, findWellKnownPasswords } from "../auth/mod.ts";
import {
  isLoopbackHost,
  limitsFor,
  parseListen,
  parseMaxStartups,
  resolveContainer,
} from "../config/mod.ts";
import { AuthWebhook, ConfigWebhook, WebhookClient, webhookHttpClient } from "../webhook/mod.ts";
import { ConnectionSettings } from "./connection_settings.ts";
import type { Config, ContainerConfig, WebhookConfig } from "../config/types.ts";
import { CapsuleError, describeError } from "../errors/mod.ts";
import { ForwardBudget, LocalForwarder, RemoteForwarder } from "../forward/mod.ts";
import {
  ConnectionContainers,
  ContainerAlarms,
  FreshContainers,
  OrphanSweeper,
  ownerLiveness,
  placementByMode,
  ProcessBeacon,
  SharedContainers,
  SharedHolds,
  WarmPool,
} from "../lifecycle/mod.ts";
import {
  ImagePuller,
  type ImagePullerSettings,
  imagesOf,
  PrePuller,
  type PrePullPlan,
} from "../images/mod.ts";
import type { Logger } from "../log/mod.ts";
import type { ContainerRuntime } from "../runtime/mod.ts";
import { EnvAllowList, Session } from "../session/mod.ts";
import {
  type ConnectionLimits,
  loadHostKeys,
  randomId,
  SshServer,
  type StreamSocket,
} from "../ssh/mod.ts";
import { reportReload } from "./report_reload.ts";
import {
  chooseDiskLimit,
  ContainerBudget,
  DiskWatcher,
  needsDiskWatch,
  UserCaps,
} from "../limits/mod.ts";
import { refusedSessionChain, sessionChain } from "./session_chain.ts";
import { refusalOf } from "./refusal_of.ts";
import { ToolsInstaller } from "./tools_installer.ts";
import { openObservability } from "./observability.ts";
import { UserSockets } from "./user_sockets.ts";

/** A started capsule server. */
export interface RunningServer {
  /**
   * The address actually bound (the port is real even when 0 was asked);
   * `undefined` when started with `listen: false`.
   */
  readonly address: { host: string; port: number } | undefined;
  /**
   * Serves one SSH connection over `socket` (standard input and output, or
   * any stream), with the same authentication, limits and containers.
   *
   * @returns resolves once the connection has closed, its sessions have
   *   ended and their containers have been given back (removed, in `session` mode)
   */
  serveSocket(socket: StreamSocket): Promise<void>;
  /**
   * Resolves once no shared container is held by this server or waits for
   * its grace period here: each was removed, or left to another process of
   * the instance.
   */
  settled(): Promise<void>;
  /**
   * Stops accepting, tells every user, lets sessions run on for `drainMs`
   * (or until `now` aborts), then ends the rest and removes every container.
   */
  shutdown(options: { drainMs: number; now?: AbortSignal }): Promise<void>;
  /** Takes users, keys and container settings from a reloaded config; live sessions carry on. */
  reload(config: Config): void;
  /** Reopens the audit file (SIGHUP, after log rotation moved it). */
  reopenLogs(): void;
}

/** Options of {@linkcode startServer}. */
export interface StartServerOptions {
  logger: Logger;
  runtime: ContainerRuntime;
  /** capsule's version, for the metrics' `capsule_build_info` (default `unknown`). */
  version?: string;
  /**
   * Whether to listen on `server.listen` (default `true`). Without it the
   * server serves only the connections given to `serveSocket`, and runs no
   * metrics listener (`serve --stdio`: one process per connection).
   */
  listen?: boolean;
  /** Keys of in-process clients (the library's `openClient`), accepted for their user. */
  ephemeralKeys?: EphemeralKeys;
}

/**
 * Asks the engine whether it answers. One that does not may come later (the
 * server starts, and logins work once it is there), so that is a warning; a
 * TLS handshake that fails will not mend by waiting (a wrong CA, a refused or
 * expired client certificate), so that stops the start.
 *
 * @throws {CapsuleError} `ENGINE_TLS_FAILED`
 */
async function checkEngine(runtime: ContainerRuntime, logger: Logger): Promise<void> {
  try {
    await runtime.ping();
  } catch (error) {
    if (error instanceof CapsuleError && error.code === "ENGINE_TLS_FAILED") throw error;
    logger.warn("engine.unreachable", { error: describeError(error) });
  }
}

/** The instance label of a config: `server.instance`, or the listen address. */
export function instanceOf(config: Config): string {
  return config.server.instance !== "" ? config.server.instance : config.server.listen;
}

/**
 * Builds capsule's layers in dependency order and starts listening:
 * host keys, the sweep for orphaned containers, the placements (warm pool
 * over fresh containers, shared containers), authenticator, session handler
 * chain (first listed = outermost), and the SSH server.
 *
 * @throws {CapsuleError} when a host key cannot be used or a well-known
 *   password is configured on a non-loopback address
 */
export async function startServer(
  config: Config,
  options: StartServerOptions,
): Promise<RunningServer> {
  const { logger } = options;
  await refuseWeakPasswords(config);
  const observe = openObservability(config, {
    logger,
    version: options.version ?? "unknown",
    containers: () => audited.counts(),
  });
  // One pull per image, with the credentials of its registry, shared by
  // every login, the pool and the pre-pull.
  const images = new ImagePuller(options.runtime, { logger, ...pullerSettings(config) });
  const prePuller = new PrePuller(images, { logger });
  const audited: AuditedRuntime = new AuditedRuntime(images, {
    recorder: observe.recorder,
    onEngineError: (operation) => observe.engineError(operation),
  });
  // Every container this server makes counts against `limits.containers`.
  const runtime = new ContainerBudget(audited, config.limits.containers);
  await checkEngine(runtime, logger);

  const hostKeys = await loadHostKeys({
    paths: config.server.hostKeys,
    stateDir: config.server.stateDir,
    logger,
  });
  let current = config;
  const webhook = await openConfigWebhook(config);
  const authWebhook = await openAuthWebhook(config);
  const settings = new ConnectionSettings({ config: () => current, webhook: webhook?.hook });
  const instance = instanceOf(config);
  const live = new Set<string>();
  // Other processes may serve this instance too (`serve --stdio`, one per
  // connection): persistent containers are claimed through the state
  // directory, and the sweep leaves every live process's containers alone.
  const tokens = await openBeacon(config.server.stateDir);
  const holds = new SharedHolds({ dir: `${config.server.stateDir}/containers`, tokens });
  const sweeper = new OrphanSweeper(runtime, {
    instance,
    isLive: ownerLiveness({ instance, live, tokens, holds }),
    logger,
    intervalMs: config.server.sweepInterval * 1000,
  });
  // Nothing of this process is live yet: whatever a dead process of this
  // instance left behind goes.
  await sweeper.sweep();
  sweeper.start();
  // In the background, so that the first login finds its image there.
  if (config.docker.prePull) prePuller.configure(prePullPlan(config));
  // Before the pool fills: every container should have the tools.
  const tools = new ToolsInstaller(runtime, {
    image: config.container.image,
    pull: config.container.pull,
    logger,
  });
  await tools.install();

  const alarms = new ContainerAlarms();
  const disk = await chooseDiskLimit(runtime, config, logger);
  const diskWatcher = new DiskWatcher(runtime, { instance, alarms, logger });
  if (disk === "watch") diskWatcher.start();
  const caps = new UserCaps((user) => limitsFor(current, user));

  const authenticator = new Authenticator(config, {
    logger,
    outside: authWebhook !== undefined,
    ...(options.ephemeralKeys ? { ephemeralKeys: options.ephemeralKeys } : {}),
  });
  const envAllow = new EnvAllowList(config.session.envAllow);
  const pool = new WarmPool(runtime, {
    instance,
    live,
    logger,
    fallback: new FreshContainers(runtime, instance, live, alarms),
    alarms,
  });
  pool.configure(pooledProfiles(config));
  const shared = new SharedContainers(runtime, { instance, live, logger, alarms, holds });
  // Containers still being given back after their session reported its exit status.
  const releases = new Set<Promise<void>>();
  const connectionContainers = new ConnectionContainers();
  const forwardBudget = new ForwardBudget(() => current.limits.forwardsPerConnection);
  const forwarder = new LocalForwarder(runtime, {
    containers: connectionContainers,
    containerFor: (owner) => settings.containerFor(owner),
    budget: forwardBudget,
  });
  const remoteForwarder = new RemoteForwarder(runtime, {
    containers: connectionContainers,
    containerFor: (owner) => settings.containerFor(owner),
    budget: forwardBudget,
    maxListeners: () => current.limits.listenersPerConnection,
    holdShared: (connectionId, user, container) =>
      shared.holdForConnection(connectionId, user, container),
    toolsReady: () => tools.ready,
    observe: (event, fields) => observe.recorder.record(event, fields),
  });
  const placement = auditPlacement(
    placementByMode(pool, shared),
    observe.recorder,
    (id) => audited.placementOf(id),
  );
  const handler = sessionChain(placement, {
    caps,
    onPlaced: (ctx, containerId) => {
      if (ctx.agentSocket !== undefined) remoteForwarder.agentPlaced(ctx.connectionId, containerId);
      return connectionContainers.add(ctx.connectionId, containerId);
    },
    ...(observe.sessions ? { audit: observe.sessions } : {}),
    ...(config.recording.dir !== ""
      ? { recording: { dir: resolve(config.recording.dir), input: config.recording.input } }
      : {}),
    containerFor: (owner) => settings.containerFor(owner),
    track: (release) => {
      releases.add(release);
      void release.finally(() => releases.delete(release));
    },
  });
  const server = new SshServer({
    hostKeys,
    authenticator,
    logger,
    banner: config.server.banner,
    limits: connectionLimits(config),
    observer: auditConnections(observe.recorder),
    onConnectionClose: (connectionId) => {
      caps.closeConnection(connectionId);
      shared.connectionClosed(connectionId);
      settings.forget(connectionId);
    },
    admit: (connectionId, identity) => caps.openConnection(identity.username, connectionId),
    ...(webhook ? { prepare: (login, signal) => settings.login(login, signal) } : {}),
    ...(authWebhook
      ? {
        authWebhook: {
          webhook: authWebhook.hook,
          knowsProfile: (name: string) => Object.hasOwn(current.profiles, name),
        },
      }
      : {}),
    openTunnel: auditTunnels((request) => forwarder.open(request), observe.recorder),
    remote: remoteForwarder,
    openSession: (connection) => {
      const id = randomId();
      return new Session({
        id,
        connectionId: connection.connectionId,
        identity: connection.identity,
        logger: connection.logger.child({ session: id }),
        envAllow,
        handler: connection.refused
          ? refusedSessionChain(connection.refused, observe.sessions)
          : handler,
        refusal: (request) => {
          const reason = refusalOf(request, settings.containerFor(connection));
          if (reason !== undefined) {
            observe.recorder.record("session.refused", {
              connection: connection.connectionId,
              user: connection.identity.username,
              session: id,
              kind: request.kind,
              ...(request.kind === "subsystem" ? { subsystem: request.name.slice(0, 64) } : {}),
              reason,
            });
          }
          return reason;
        },
        forwardAgent: () => {
          const decision = remoteForwarder.agentSocket(connection.connectionId);
          if ("refused" in decision) {
            observe.recorder.record("forward.refused", {
              connection: connection.connectionId,
              user: connection.identity.username,
              kind: "agent",
              reason: decision.refused,
              prohibited: true,
            });
          }
          return decision;
        },
      });
    },
  });
  const listen = parseListen(config.server.listen);
  let listening = false;
  let address: { host: string; port: number } | undefined;
  let userSockets: UserSockets | undefined;
  try {
    if (config.server.userSockets.dir !== "") {
      userSockets = await UserSockets.open(config.server.userSockets, {
        logger,
        users: Object.keys(config.users),
        serve: (socket, user) => {
          // A user removed by a reload keeps no way in.
          if (!Object.hasOwn(current.users, user)) {
            logger.info("user_socket.refused", { user, reason: "not a user of the config" });
            socket.destroy();
            return Promise.resolve();
          }
          return server.serveSocket(socket, { user });
        },
      });
    }
    if (options.listen === false) {
      logger.info("server.ready", { instance, listen: false });
    } else {
      address = await server.listen(listen.host, listen.port);
      logger.info("server.listening", { host: address.host, port: address.port, instance });
      listening = true;
      await observe.serveMetrics({ ping: () => runtime.ping(), listening: () => listening });
    }
  } catch (error) {
    // A port in use: take down what started, the warm pool's containers included.
    await userSockets?.close();
    server.stopAccepting();
    await sweeper.stop();
    tools.stop();
    prePuller.stop();
    await diskWatcher.stop();
    await withinMs(CLEANUP_LIMIT_MS, Promise.all([shared.close(), pool.close()]));
    await server.close();
    await observe.close();
    webhook?.close();
    authWebhook?.close();
    await tokens.close();
    throw error;
  }

  return {
    address,
    async serveSocket(socket) {
      await server.serveSocket(socket);
      // Its sessions' releases are among these (others' too, which end soon anyway).
      await Promise.all(releases);
    },
    settled: () => shared.settled(),
    async shutdown({ drainMs, now }) {
      server.stopAccepting();
      await userSockets?.close();
      listening = false;
      await sweeper.stop();
      tools.stop();
      prePuller.stop();
      const open = server.sessions;
      logger.info("server.draining", { sessions: open.length, drain_ms: drainMs });
      for (const session of open) {
        session.notice(
          `the server is shutting down; this session will be closed in ${
            Math.round(drainMs / 1000)
          } s`,
        );
      }
      await drain(open, drainMs, now);
      // Still enforced while sessions drain; stopped before their containers go.
      await diskWatcher.stop();
      await server.close();
      // An engine that stops answering must not hold the exit for good: what
      // is left then goes in the next start-up sweep.
      const tidied = await withinMs(
        CLEANUP_LIMIT_MS,
        Promise.all(releases).then(() => Promise.all([shared.close(), pool.close()])),
      );
      if (!tidied) logger.warn("server.cleanup_timeout", { limit_ms: CLEANUP_LIMIT_MS });
      await withinMs(CLEANUP_LIMIT_MS, sweeper.sweep());
      await observe.close();
      webhook?.close();
      authWebhook?.close();
      // Last: until here, no sibling may take this process's containers for orphans.
      await tokens.close();
      logger.info("server.stopped");
    },
    reload(next) {
      reportReload(current, next, logger);
      current = next;
      runtime.max = next.limits.containers;
      authenticator.update(next);
      images.configure(pullerSettings(next));
      // Turned off: no more refreshes of the images the old config named.
      prePuller.configure(
        next.docker.prePull ? prePullPlan(next) : { images: [], refreshIntervalMs: 0 },
      );
      pool.configure(pooledProfiles(next));
      // A reload that sets a disk limit where none was: watch it from now on
      // (an engine with quotas applies them to new containers as it is).
      if (disk === "none" && !diskWatcher.running && needsDiskWatch(next)) {
        logger.info("disk.limit", { mechanism: "watch", reason: "reload" });
        diskWatcher.start();
      }
    },
    reopenLogs() {
      observe.reopen();
    },
  };
}

/** The HTTP client of a webhook's TLS files, read now; a clear error for the operator if they cannot be used. */
async function tlsClientOf(
  name: string,
  settings: WebhookConfig,
): Promise<Deno.HttpClient | undefined> {
  try {
    return await webhookHttpClient(settings);
  } catch (error) {
    throw new CapsuleError(
      "WEBHOOK_TLS_INVALID",
      `Cannot use the TLS files of "webhooks.${name}": ${describeError(error)}`,
      { cause: error },
    );
  }
}

/** The config webhook of `config`, if it has one, and how to close its HTTP client. */
async function openConfigWebhook(
  config: Config,
): Promise<{ hook: ConfigWebhook; close(): void } | undefined> {
  const settings = config.webhooks.config;
  if (settings.url === "") return undefined;
  const httpClient = await tlsClientOf("config", settings);
  const client = new WebhookClient({
    url: settings.url,
    timeoutMs: settings.timeout * 1000,
    retries: settings.retries,
    httpClient,
  });
  return { hook: new ConfigWebhook(client), close: () => httpClient?.close() };
}

/** The auth webhook of `config`, if it has one, and how to close its HTTP client. */
async function openAuthWebhook(
  config: Config,
): Promise<{ hook: AuthWebhook; close(): void } | undefined> {
  const settings = config.webhooks.auth;
  if (settings.url === "") return undefined;
  const httpClient = await tlsClientOf("auth", settings);
  return { hook: new AuthWebhook(settings, httpClient), close: () => httpClient?.close() };
}

/**
 * The container profiles that get a warm pool: the global one, the named
 * profiles that set `pool`, and the users who set `pool` themselves. A user
 * who only changes other settings (their own mounts, say) gets fresh
 * containers, so idle containers grow with what the operator asked for, not
 * with the number of users.
 */
function pooledProfiles(config: Config): ContainerConfig[] {
  return [
    resolveContainer(config, undefined),
    ...Object.entries(config.profiles)
      .filter(([, profile]) => profile.pool !== undefined)
      .map(([profile]) => resolveContainer(config, undefined, { profile })),
    ...Object.entries(config.users)
      .filter(([, user]) => user.container?.pool !== undefined)
      .map(([name]) => resolveContainer(config, name)),
  ];
}

/** What the image puller takes from a config: credentials and the refresh interval. */
function pullerSettings(config: Config): ImagePullerSettings {
  return {
    registries: config.docker.registries,
    refreshIntervalMs: config.docker.refreshInterval * 1000,
  };
}

/** The images a config names, for the pre-pull. */
function prePullPlan(config: Config): PrePullPlan {
  return { images: imagesOf(config), refreshIntervalMs: config.docker.refreshInterval * 1000 };
}

async function openBeacon(stateDir: string): Promise<ProcessBeacon> {
  try {
    return await ProcessBeacon.open(`${stateDir}/processes`);
  } catch (error) {
    throw new CapsuleError(
      "STATE_DIR_UNWRITABLE",
      `Cannot start: the state directory "${stateDir}" is not writable`,
      { cause: error },
    );
  }
}

async function refuseWeakPasswords(config: Config): Promise<void> {
  if (isLoopbackHost(parseListen(config.server.listen).host)) return;
  const weak = await findWellKnownPasswords(config);
  if (weak.length === 0) return;
  throw new CapsuleError(
    "WEAK_PASSWORD_ON_PUBLIC_ADDRESS",
    `Refusing to listen on "${config.server.listen}": user ${
      weak.map((u) => `"${u}"`).join(", ")
    } has a well-known password; change it ("capsule hash-password") or listen on 127.0.0.1`,
  );
}

/** How long shutdown waits for the engine to remove what is left. */
const CLEANUP_LIMIT_MS = 20_000;

/** Whether `work` settled within `ms` (it runs on either way). */
async function withinMs(ms: number, work: Promise<unknown>): Promise<boolean> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const late = new Promise<false>((resolve) => (timer = setTimeout(() => resolve(false), ms)));
  try {
    return await Promise.race([work.then(() => true, () => true), late]);
  } finally {
    clearTimeout(timer);
  }
}

/** Waits until every session is done, `ms` passed, or `now` aborted. */
async function drain(sessions: readonly Session[], ms: number, now?: AbortSignal): Promise<void> {
  if (sessions.length === 0 || now?.aborted) return;
  let timer: ReturnType<typeof setTimeout> | undefined;
  let onAbort: (() => void) | undefined;
  try {
    await Promise.race([
      Promise.all(sessions.map((s) => s.done)),
      new Promise<void>((resolve) => {
        timer = setTimeout(resolve, ms);
        onAbort = resolve;
        now?.addEventListener("abort", onAbort, { once: true });
      }),
    ]);
  } finally {
    clearTimeout(timer);
    if (onAbort) now?.removeEventListener("abort", onAbort);
  }
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
