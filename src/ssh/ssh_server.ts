// @ts-types="@types/ssh2"
import ssh2 from "ssh2";
// @ts-types="@types/ssh2"
import type { ClientInfo, Connection, ServerChannel, Session as Ssh2Session } from "ssh2";
import net from "node:net";
import type { Authenticator, Identity } from "../auth/mod.ts";
import { describeError } from "../errors/mod.ts";
import type { Logger } from "../log/mod.ts";
import type { Session, SessionRequest } from "../session/mod.ts";
import { ALGORITHMS } from "./algorithms.ts";
import { authenticate } from "./authenticate.ts";
import { ChannelIO } from "./channel_io.ts";
import type { HostKey } from "./host_keys.ts";

/** What the server knows about a connection when a session opens on it. */
export interface ConnectionInfo {
  connectionId: string;
  identity: Identity;
  logger: Logger;
}

/** Options of {@linkcode SshServer}. */
export interface SshServerOptions {
  hostKeys: readonly HostKey[];
  authenticator: Authenticator;
  logger: Logger;
  /** Creates the state machine of a new session channel. */
  openSession(connection: ConnectionInfo): Session;
  /** Text sent before authentication; empty for none. */
  banner?: string;
  /** Failed authentication attempts before the connection is dropped (default 6). */
  maxAuthTries?: number;
}

/** A short random id for connections and sessions. */
export function randomId(): string {
  return crypto.randomUUID().replaceAll("-", "").slice(0, 12);
}

/**
 * The SSH edge of capsule: the only module that talks to ssh2's server
 * objects. It drives the TCP listener itself, hands each socket to ssh2, and
 * turns ssh2's events into calls on {@linkcode Session}.
 */
export class SshServer {
  readonly #options: SshServerOptions;
  readonly #ssh: ssh2.Server;
  readonly #tcp: net.Server;
  readonly #connections = new Set<Connection>();
  readonly #sessions = new Set<Session>();
  /** Connection ids by remote `ip:port`, from accept until ssh2 reports the connection. */
  readonly #accepted = new Map<string, string>();

  /** @param options keys, authenticator, logger and the session factory */
  constructor(options: SshServerOptions) {
    this.#options = options;
    this.#ssh = new ssh2.Server({
      hostKeys: options.hostKeys.map((k) => k.privateKey),
      algorithms: ALGORITHMS,
      ident: "capsule",
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

  /** Stops accepting, ends every connection and waits until every session has ended. */
  async close(): Promise<void> {
    const closed = new Promise<void>((resolve) => this.#tcp.close(() => resolve()));
    for (const session of this.#sessions) session.close();
    for (const client of this.#connections) client.end();
    await Promise.all([...this.#sessions].map((s) => s.done));
    await closed;
  }

  #onSocket(socket: net.Socket): void {
    const remote = `${socket.remoteAddress}:${socket.remotePort}`;
    const connectionId = randomId();
    this.#accepted.set(remote, connectionId);
    socket.once("close", () => this.#accepted.delete(remote));
    socket.on("error", () => {}); // reported through the ssh2 connection
    this.#ssh.injectSocket(socket);
  }

  #onConnection(client: Connection, info: ClientInfo): void {
    const remote = `${info.ip}:${info.port}`;
    const accepting = { connectionId: this.#accepted.get(remote) ?? randomId(), remote };
    const logger = this.#options.logger.child({ connection: accepting.connectionId });
    const sessions = new Set<Session>();
    const track = (session: Session) => {
      sessions.add(session);
      this.#sessions.add(session);
    };
    const untrack = (session: Session) => {
      sessions.delete(session);
      this.#sessions.delete(session);
    };
    const maxAuthTries = this.#options.maxAuthTries ?? 6;
    let identity: Identity | undefined;
    let failures = 0;
    this.#connections.add(client);
    logger.info("connection.open", {
      remote: accepting.remote,
      client: info.header.versions.software.slice(0, 64),
    });

    client.on("error", (error) => {
      logger.warn("connection.error", { error: describeError(error) });
    });
    client.on("authentication", async (ctx) => {
      const decision = await authenticate(ctx, this.#options.authenticator, logger);
      if (decision.accept) {
        // Set before accept(): ssh2 emits "ready" from inside accept().
        if (decision.identity) {
          identity = decision.identity;
          logger.info("auth.accepted", {
            user: identity.username,
            method: identity.method,
            ...(identity.keyFingerprint ? { fingerprint: identity.keyFingerprint } : {}),
          });
        }
        ctx.accept();
        return;
      }
      ctx.reject(this.#options.authenticator.methods());
      if (decision.counts && ++failures >= maxAuthTries) {
        logger.info("auth.too_many_failures", { failures });
        client.end();
      }
    });
    client.on("ready", () => {
      if (!identity) {
        client.end();
        return;
      }
      const user = identity;
      const userLogger = logger.child({ user: user.username });
      client.on("session", (accept) => {
        const ssh2Session = accept();
        const session = this.#options.openSession({
          connectionId: accepting.connectionId,
          identity: user,
          logger: userLogger,
        });
        track(session);
        wireSession(ssh2Session, session, () => void session.done.then(() => untrack(session)));
      });
    });
    client.on("close", () => {
      this.#connections.delete(client);
      for (const session of sessions) {
        session.close();
        void session.done.then(() => untrack(session));
      }
      logger.info("connection.close", { user: identity?.username });
    });
  }
}

/** Routes one ssh2 session channel's requests to our session state machine. */
function wireSession(channel: Ssh2Session, session: Session, onClose: () => void): void {
  let io: ChannelIO | undefined;
  const reply = (ok: boolean, accept?: () => void, reject?: () => void) =>
    ok ? accept?.() : reject?.();

  channel.on("pty", (accept, reject, info) => {
    reply(session.pty({ term: info.term, cols: info.cols, rows: info.rows }), accept, reject);
  });
  channel.on("window-change", (accept, _reject, info) => {
    session.windowChange({ cols: info.cols, rows: info.rows });
    accept?.();
  });
  channel.on("env", (accept, reject, info) => {
    reply(session.env(String(info.key), String(info.val)), accept, reject);
  });
  channel.on("signal", (accept, reject, info) => {
    reply(session.signal(String(info.name)), accept, reject);
  });
  const start = (
    request: SessionRequest,
    accept: () => ServerChannel | undefined,
    reject?: () => void,
  ) => {
    if (!session.canStart) return reject?.();
    const accepted = accept();
    if (!accepted) return;
    io = new ChannelIO(accepted);
    session.start(request, io);
  };
  channel.on("shell", (accept, reject) => start({ kind: "shell" }, accept, reject));
  channel.on(
    "exec",
    (accept, reject, info) => start({ kind: "exec", command: info.command }, accept, reject),
  );
  channel.on("close", () => {
    io?.closed();
    session.close();
    onClose();
  });
}
