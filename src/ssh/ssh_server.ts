// @ts-types="@types/ssh2"
import ssh2 from "ssh2";
// @ts-types="@types/ssh2"
import type { ClientInfo, Connection } from "ssh2";
import net from "node:net";
import type { Authenticator, Identity } from "../auth/mod.ts";
import { describeError } from "../errors/mod.ts";
import type { Logger } from "../log/mod.ts";
import type { RemoteForwarding, TunnelOpener } from "../forward/mod.ts";
import type { AuthWebhook } from "../webhook/mod.ts";
import type { Session } from "../session/mod.ts";
import { Admission, sourceOf } from "./admission.ts";
import { ALGORITHMS } from "./algorithms.ts";
import type { ConnectionLimits } from "./connection_limits.ts";
import type { ConnectionObserver } from "./connection_observer.ts";
import type { HostKey } from "./host_keys.ts";
import type { StreamSocket } from "./stream_socket.ts";
import { type AcceptedLogin, type ConnectionState, serveConnection } from "./_connection.ts";

export type { AcceptedLogin } from "./_connection.ts";

/** What the server knows about a connection when a session opens on it. */
export interface ConnectionInfo {
  connectionId: string;
  identity: Identity;
  logger: Logger;
  /**
   * Why this connection may run nothing (a per-user cap): its sessions get
   * this error as their one line, and the connection is closed after them.
   */
  refused?: Error;
}

/** Options of {@linkcode SshServer}. */
export interface SshServerOptions {
  hostKeys: readonly HostKey[];
  authenticator: Authenticator;
  logger: Logger;
  /** Creates the state machine of a new session channel. */
  openSession(connection: ConnectionInfo): Session;
  /** Called once an authenticated connection has closed, after its sessions were told to close. */
  onConnectionClose?(connectionId: string): void;
  /**
   * Called once a connection has authenticated: returns why it may not run
   * anything (a per-user cap), or `undefined` to let it in.
   */
  admit?(connectionId: string, identity: Identity): Error | undefined;
  /**
   * Called once a login is accepted, before the client is told: gets the
   * connection's settings (a config webhook); the reason if it may run
   * nothing. Its signal aborts shortly before the login deadline.
   */
  prepare?(login: AcceptedLogin, signal: AbortSignal): Promise<Error | undefined>;
  /** The auth webhook, for credentials the config does not know; a profile it names must exist. */
  authWebhook?: { webhook: AuthWebhook; knowsProfile(name: string): boolean } | undefined;
  /** Decides on and serves forwarded channels (`ssh -L`, `-D`); none refuses them all. */
  openTunnel?: TunnelOpener;
  /** Remote and agent forwarding (`ssh -R`, `ssh -A`); none refuses `-R`. */
  remote?: RemoteForwarding;
  /** Text sent before authentication; empty for none. */
  banner?: string;
  /** Pre-authentication and per-connection limits (see `connectionLimits()` for the config's). */
  limits: ConnectionLimits;
  /** Told of connections opening and closing and of each authentication attempt (audit, metrics). */
  observer?: ConnectionObserver;
}

/** Options of {@linkcode SshServer.serveSocket}. */
export interface ServeSocketOptions {
  /**
   * The user whose own unix socket (`server.userSockets`) the stream came in
   * on: the connection is that user's, logged in with the `none` method and
   * no other credential. Only for streams whose origin proves the user.
   */
  user?: string;
}

/** A TCP socket, or one connection's bytes over any other stream. */
type SocketLike = net.Socket | StreamSocket;

/** How long clients get to close their own connections at shutdown. */
const CLIENT_CLOSE_GRACE_MS = 1_000;

async function waitUntil(done: () => boolean, ms: number): Promise<void> {
  const deadline = Date.now() + ms;
  while (!done() && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
}

/** A short random id for connections and sessions. */
export function randomId(): string {
  return crypto.randomUUID().replaceAll("-", "").slice(0, 12);
}

/**
 * The SSH edge of capsule: the only module that talks to ssh2's server
 * objects. It drives the TCP listener itself, so that admission control and
 * the login deadline apply from a socket's first moment, hands each admitted
 * socket to ssh2, and turns ssh2's events into calls on {@linkcode Session}.
 */
export class SshServer {
  readonly #options: SshServerOptions;
  readonly #limits: ConnectionLimits;
  readonly #admission: Admission;
  readonly #ssh: ssh2.Server;
  readonly #tcp: net.Server;
  readonly #connections = new Set<Connection>();
  readonly #sockets = new Set<SocketLike>();
  readonly #sessions = new Set<Session>();
  /** Connections by remote `ip:port`, from accept until ssh2 reports the handshake. */
  readonly #accepted = new Map<string, ConnectionState>();
  /** Resolves once the listener has closed and its last connection ended. */
  readonly #listenerClosed = Promise.withResolvers<void>();
  #stopped = false;

  /** @param options keys, authenticator, logger, limits and the session factory */
  constructor(options: SshServerOptions) {
    this.#options = options;
    this.#limits = options.limits;
    this.#admission = new Admission(this.#limits);
    this.#ssh = new ssh2.Server({
      hostKeys: options.hostKeys.map((k) => k.privateKey),
      algorithms: ALGORITHMS,
      ident: "capsule",
      keepaliveInterval: this.#limits.keepaliveIntervalMs,
      keepaliveCountMax: this.#limits.keepaliveCountMax,
      ...(options.banner ? { banner: options.banner } : {}),
    }, (client, info) => this.#onConnection(client, info));
    this.#tcp = net.createServer((socket) => this.#onSocket(socket));
    this.#tcp.on("error", (error) => {
      options.logger.error("server.listener_error", { error: describeError(error) });
    });
  }

  /** Starts listening; resolves with the bound address (port 0 picks a free port). */
  listen(host: string, port: number): Promise<{ host: string; port: number }> {
    return new Promise((resolve, reject) => {
      this.#tcp.once("error", reject);
      this.#tcp.listen(port, host, () => {
        this.#tcp.off("error", reject);
        const address = this.#tcp.address() as net.AddressInfo;
        resolve({ host: address.address, port: address.port });
      });
    });
  }

  /** The sessions open now. */
  get sessions(): readonly Session[] {
    return [...this.#sessions];
  }

  /**
   * Stops accepting new connections at once; open ones carry on with the
   * sessions they have, but may open no new ones.
   */
  stopAccepting(): void {
    if (this.#stopped) return;
    this.#stopped = true;
    if (this.#tcp.listening) this.#tcp.close(() => this.#listenerClosed.resolve());
    else this.#listenerClosed.resolve();
  }

  /**
   * Stops accepting, ends every session and waits until each has ended, gives
   * clients a moment to close their connections themselves (an OpenSSH
   * client that sees the disconnect before its channel's close reports 255
   * instead of the exit status), then ends the rest.
   */
  async close(): Promise<void> {
    this.stopAccepting();
    for (const session of this.#sessions) session.close();
    await Promise.all([...this.#sessions].map((s) => s.done));
    await waitUntil(() => this.#connections.size === 0, CLIENT_CLOSE_GRACE_MS);
    for (const client of this.#connections) client.end();
    await waitUntil(() => this.#connections.size === 0, CLIENT_CLOSE_GRACE_MS);
    for (const socket of this.#sockets) socket.destroy();
    await this.#listenerClosed.promise;
  }

  /**
   * Serves one SSH connection over `socket` (standard input and output, or
   * any stream), under the same admission, login deadline and limits as a
   * TCP connection.
   *
   * @returns resolves once the connection has closed and its sessions have ended
   */
  serveSocket(socket: StreamSocket, options: ServeSocketOptions = {}): Promise<void> {
    const closed = new Promise<void>((resolve) => socket.once("close", () => resolve()));
    let state: ConnectionState | undefined;
    if (this.#stopped) socket.destroy();
    else state = this.#onSocket(socket, options.user);
    // Read once the socket closed: set only if the SSH handshake was done.
    return closed.then(() => state?.sessionsEnded);
  }

  /** Admits a connection and hands it to ssh2; its state, or `undefined` when refused. */
  #onSocket(socket: SocketLike, socketUser?: string): ConnectionState | undefined {
    const remote = `${socket.remoteAddress}:${socket.remotePort}`;
    const source = sourceOf(socket.remoteAddress ?? "unknown");
    const refused = this.#admission.admit(source);
    if (refused) {
      this.#options.logger.info("connection.refused", { remote, reason: refused });
      socket.destroy();
      return undefined;
    }
    const id = randomId();
    const state: ConnectionState = {
      id,
      remote,
      address: socket.remoteAddress ?? "unknown",
      source,
      logger: this.#options.logger.child({ connection: id }),
      authenticated: false,
      failedAuth: false,
      timedOut: false,
      loginDeadline: performance.now() + this.#limits.loginTimeoutMs,
      ...(socketUser !== undefined ? { socketUser } : {}),
      drop: () => socket.destroy(),
      onAuthenticated: () => {
        state.authenticated = true;
        clearTimeout(deadline);
        this.#admission.authenticated(source);
      },
    };
    const deadline = setTimeout(() => {
      state.timedOut = true;
      state.closeReason ??= "login_timeout";
      state.logger.info("connection.login_timeout", {
        remote,
        seconds: this.#limits.loginTimeoutMs / 1000,
      });
      socket.destroy();
    }, this.#limits.loginTimeoutMs);
    this.#accepted.set(remote, state);
    this.#sockets.add(socket);
    socket.once("close", () => {
      clearTimeout(deadline);
      this.#accepted.delete(remote);
      this.#sockets.delete(socket);
      if (state.authenticated) return;
      this.#admission.closed(source);
      const penalty = state.timedOut ? "loginTimeout" : state.failedAuth ? "authFail" : "noAuth";
      this.#admission.penalize(source, penalty);
    });
    socket.on("error", () => {}); // reported through the ssh2 connection
    // ssh2 writes a packet in several pieces; without this, Nagle's algorithm
    // and the peer's delayed ACK add ~40 ms to every round trip.
    socket.setNoDelay(true);
    // ssh2 only needs a duplex with the remote's address and port.
    this.#ssh.injectSocket(socket as net.Socket);
    return state;
  }

  #onConnection(client: Connection, info: ClientInfo): void {
    const state = this.#accepted.get(`${info.ip}:${info.port}`);
    if (!state) {
      client.end();
      return;
    }
    this.#accepted.delete(state.remote);
    this.#connections.add(client);
    client.once("close", () => this.#connections.delete(client));
    const software = info.header.versions.software.slice(0, 64);
    state.clientVersion = info.header.identRaw.slice(0, 255);
    state.logger.info("connection.open", { remote: state.remote, client: software });
    this.#options.observer?.opened({ id: state.id, remote: state.remote, client: software });
    serveConnection(client, state, {
      authenticator: this.#options.authenticator,
      limits: this.#limits,
      openSession: this.#options.openSession,
      stopping: () => this.#stopped,
      onClose: (connectionId) => this.#options.onConnectionClose?.(connectionId),
      admit: (connectionId, identity) => this.#options.admit?.(connectionId, identity),
      ...(this.#options.prepare ? { prepare: this.#options.prepare } : {}),
      ...(this.#options.authWebhook ? { authWebhook: this.#options.authWebhook } : {}),
      ...(this.#options.openTunnel ? { openTunnel: this.#options.openTunnel } : {}),
      ...(this.#options.remote ? { remote: this.#options.remote } : {}),
      track: (session) => this.#sessions.add(session),
      untrack: (session) => this.#sessions.delete(session),
      observer: this.#options.observer,
    });
  }
}
