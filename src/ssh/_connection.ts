// @ts-types="@types/ssh2"
import type { Connection } from "ssh2";
import type { Authenticator, Identity } from "../auth/mod.ts";
import { describeError } from "../errors/mod.ts";
import type { Logger } from "../log/mod.ts";
import type { Session } from "../session/mod.ts";
import { handleLogin } from "./_login.ts";
import { allowRepeatedUserauthRequest } from "./_repeated_service_request.ts";
import type { ConnectionLimits } from "./connection_limits.ts";
import type { ConnectionObserver } from "./connection_observer.ts";
import { wireSession } from "./_wire_session.ts";
import { wireTunnels } from "./_wire_tunnels.ts";
import { wireRemote } from "./_wire_remote.ts";
import type { RemoteForwarding, TunnelOpener } from "../forward/mod.ts";
import type { AuthWebhook } from "../webhook/mod.ts";

/** What is known of a connection from accept on. */
export interface ConnectionState {
  id: string;
  /** The client's `ip:port`. */
  remote: string;
  /** The client's IP address (a certificate's `source-address` is checked against it). */
  address: string;
  source: string;
  logger: Logger;
  authenticated: boolean;
  /** Any authentication attempt other than `none` and key queries. */
  failedAuth: boolean;
  timedOut: boolean;
  /** Why the connection ended, once something ended it (else the client did). */
  closeReason?: string;
  /** Called once when the connection authenticates. */
  onAuthenticated(): void;
  /** Destroys the socket at once, for a peer that will not close it. */
  drop(): void;
  /** When the login deadline passes, on `performance.now()`'s clock. */
  loginDeadline: number;
  /** The client's SSH version line, once known. */
  clientVersion?: string;
  /** The user whose unix socket this connection came in on (see `LoginDeps.socketUser`). */
  socketUser?: string;
  /**
   * Resolves once the SSH connection has closed and each of its sessions
   * has ended; set when the handshake is done ({@linkcode serveConnection}).
   */
  sessionsEnded?: Promise<void>;
}

/** A login just accepted, before the client is told. */
export interface AcceptedLogin {
  connectionId: string;
  identity: Identity;
  /** The client's `ip:port`. */
  remote: string;
  clientVersion?: string | undefined;
  logger: Logger;
}

/** How long before the login deadline {@linkcode ConnectionDeps.prepare} is cut short. */
const PREPARE_MARGIN_MS = 500;

/** How long a peer gets to close its side after we end the connection. */
const CLOSE_GRACE_MS = 5_000;
/** How long a refused connection stays open for a session to carry its reason. */
const REFUSED_LINGER_MS = 10_000;

/** What a connection needs from the server. */
export interface ConnectionDeps {
  authenticator: Authenticator;
  limits: ConnectionLimits;
  openSession(
    info: { connectionId: string; identity: Identity; logger: Logger; refused?: Error },
  ): Session;
  /** Whether an authenticated connection may run anything; the reason if not. */
  admit(connectionId: string, identity: Identity): Error | undefined;
  /**
   * Called once a login is accepted, before the client is told: gets what the
   * connection needs (its settings from a webhook); the reason if it may run
   * nothing. `signal` aborts shortly before the login deadline and when the
   * client leaves.
   */
  prepare?(login: AcceptedLogin, signal: AbortSignal): Promise<Error | undefined>;
  /** The auth webhook, for credentials the config does not know. */
  authWebhook?: { webhook: AuthWebhook; knowsProfile(name: string): boolean } | undefined;
  /** Forwarded channels; without it they are refused by ssh2 ("administratively prohibited"). */
  openTunnel?: TunnelOpener;
  /** Remote and agent forwarding; without it `tcpip-forward` requests are refused. */
  remote?: RemoteForwarding;
  /** Called once the connection closed, after its sessions were told to close. */
  onClose(connectionId: string): void;
  /** True once the server is shutting down: no new sessions. */
  stopping(): boolean;
  track(session: Session): void;
  untrack(session: Session): void;
  /** Told of each authentication attempt and of the close. */
  observer?: ConnectionObserver | undefined;
}

/**
 * Serves one ssh2 connection: authentication with an attempt limit, then
 * session channels up to the per-connection cap, and an idle timeout while no
 * channel is open.
 */
export function serveConnection(client: Connection, state: ConnectionState, deps: ConnectionDeps) {
  const { logger, id } = state;
  const opened = performance.now();
  const sessionsEnded = Promise.withResolvers<void>();
  state.sessionsEnded = sessionsEnded.promise;
  const endFor = (reason: string) => {
    state.closeReason ??= reason;
    end();
  };
  const sessions = new Set<Session>();
  let identity: Identity | undefined;
  /** Why `prepare` refused the login, if it did. */
  let unprepared: Error | undefined;
  /** Aborted when the client leaves. */
  const gone = new AbortController();
  let idleTimer: ReturnType<typeof setTimeout> | undefined;

  const armIdle = () => {
    clearTimeout(idleTimer);
    if (deps.limits.idleTimeoutMs <= 0 || sessions.size > 0) return;
    idleTimer = setTimeout(() => {
      logger.info("connection.idle_timeout", { seconds: deps.limits.idleTimeoutMs / 1000 });
      endFor("idle_timeout");
    }, deps.limits.idleTimeoutMs);
  };

  let dropTimer: ReturnType<typeof setTimeout> | undefined;
  let refusedTimer: ReturnType<typeof setTimeout> | undefined;
  /** Ends the connection, and drops it if the peer does not close its side in time. */
  const end = () => {
    client.end();
    dropTimer ??= setTimeout(() => state.drop(), CLOSE_GRACE_MS);
  };

  client.on("error", (error: Error & { level?: string }) => {
    if (error.level === "client-timeout") {
      // ssh2 only half-closes; a frozen peer would hold the socket for good.
      logger.info("connection.keepalive_timeout");
      state.closeReason ??= "keepalive_timeout";
      state.drop();
      return;
    }
    state.closeReason ??= "error";
    logger.warn("connection.error", { error: describeError(error) });
  });
  if (!allowRepeatedUserauthRequest(client)) {
    logger.warn("connection.ssh2_internals_missing", { feature: "repeated ssh-userauth requests" });
  }
  const identityOf = handleLogin(client, {
    authenticator: deps.authenticator,
    logger,
    connectionId: id,
    address: state.address,
    maxAuthTries: deps.limits.maxAuthTries,
    socketUser: state.socketUser,
    observer: deps.observer,
    onFailure: () => {
      state.failedAuth = true;
    },
    onTooManyFailures: (failures) => {
      logger.info("auth.too_many_failures", { failures });
      endFor("auth_failures");
    },
    outside: (username) => {
      const hook = deps.authWebhook;
      if (!hook) return undefined;
      const deadline = AbortSignal.timeout(Math.max(0, state.loginDeadline - performance.now()));
      return {
        webhook: hook.webhook,
        knowsProfile: (name) => hook.knowsProfile(name),
        signal: AbortSignal.any([deadline, gone.signal]),
        login: {
          username,
          connectionId: id,
          remoteAddress: state.remote,
          clientVersion: state.clientVersion,
        },
      };
    },
    beforeAccept: async (who) => {
      if (!deps.prepare) return true;
      unprepared = await prepare(deps.prepare, {
        connectionId: id,
        identity: who,
        remote: state.remote,
        clientVersion: state.clientVersion,
        logger: logger.child({ user: who.username }),
      });
      return !gone.signal.aborted;
    },
  });
  client.on("ready", () => {
    identity = identityOf();
    if (!identity) {
      endFor("no_identity");
      return;
    }
    state.onAuthenticated();
    const user = identity;
    const userLogger = logger.child({ user: user.username });
    const refused = unprepared ?? deps.admit(id, user);
    if (refused) {
      // Its first session tells the user why; a client that opens none
      // (`ssh -N`) is closed a little later all the same.
      userLogger.info("connection.refused", { reason: refused.message });
      refusedTimer = setTimeout(() => endFor("refused"), REFUSED_LINGER_MS);
    }
    armIdle();
    const owner = { connectionId: id, identity: user, logger: userLogger };
    if (deps.openTunnel && !refused) wireTunnels(client, owner, deps.openTunnel);
    if (deps.remote && !refused) wireRemote(client, owner, deps.remote);
    client.on("session", (accept, reject) => {
      if (deps.stopping()) {
        userLogger.info("session.refused", { reason: "server shutting down" });
        reject();
        return;
      }
      if (sessions.size >= deps.limits.maxSessions) {
        userLogger.info("session.refused", { reason: "too many sessions", open: sessions.size });
        reject();
        return;
      }
      const session = deps.openSession({
        connectionId: id,
        identity: user,
        logger: userLogger,
        ...(refused ? { refused } : {}),
      });
      sessions.add(session);
      deps.track(session);
      armIdle();
      wireSession(client, accept(), session, () => {
        void session.done.then(() => {
          sessions.delete(session);
          deps.untrack(session);
          armIdle();
          if (refused) endFor("refused");
        });
      });
    });
  });
  client.on("close", () => {
    gone.abort();
    clearTimeout(idleTimer);
    clearTimeout(dropTimer);
    clearTimeout(refusedTimer);
    const ending = [...sessions].map((session) => {
      session.close();
      return session.done.then(() => deps.untrack(session));
    });
    logger.info("connection.close", { user: identity?.username });
    const closed = {
      id,
      ...(identity ? { user: identity.username } : {}),
      reason: state.closeReason ?? (deps.stopping() ? "shutdown" : "client"),
      durationMs: Math.round(performance.now() - opened),
    };
    // Observed once its sessions have ended, so that a connection's close is
    // its last event in the audit (a killed client's session ends after it).
    void Promise.allSettled(ending).then(() => {
      deps.observer?.closed(closed);
      sessionsEnded.resolve();
    });
    deps.onClose(id);
  });

  /** Runs `deps.prepare` within the login deadline (less a margin) and while the client stays. */
  async function prepare(
    run: NonNullable<ConnectionDeps["prepare"]>,
    login: AcceptedLogin,
  ): Promise<Error | undefined> {
    const limit = new AbortController();
    const timer = setTimeout(
      () => limit.abort(),
      Math.max(0, state.loginDeadline - performance.now() - PREPARE_MARGIN_MS),
    );
    try {
      return await run(login, AbortSignal.any([limit.signal, gone.signal]));
    } catch (error) {
      return error instanceof Error ? error : new Error(String(error));
    } finally {
      clearTimeout(timer);
    }
  }
}
