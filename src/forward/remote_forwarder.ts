import type { ConnectionIdentity } from "../auth/mod.ts";
import type { ContainerConfig } from "../config/types.ts";
import { describeError } from "../errors/mod.ts";
import type { ConnectionContainers } from "../lifecycle/mod.ts";
import type { ContainerRuntime } from "../runtime/mod.ts";
import type { ForwardBudget } from "./forward_budget.ts";
import { type RelayBind, type RelayConnection, RelayListener } from "./relay_listener.ts";
import { isPlainSocketPath } from "./socat_address.ts";
import { spliceRelay } from "./splice_relay.ts";
import type {
  ClientChannels,
  ForwardOwner,
  ListenTarget,
  RemoteForwarding,
  TunnelEnd,
} from "./tunnel.ts";

/** What the forwarder reports, for the audit and the metrics. */
export type ForwardEvent = "forward.open" | "forward.close" | "forward.refused";

/** Options of {@linkcode RemoteForwarder}. */
export interface RemoteForwarderOptions {
  /** The containers of each connection's running sessions. */
  containers: ConnectionContainers;
  /** A connection's container settings (forwarding policy, user, shell). */
  containerFor(owner: ConnectionIdentity): ContainerConfig;
  /** Forwarded channels per connection, shared with local forwarding. */
  budget: ForwardBudget;
  /** Listeners one connection may hold (read at each request); 0 for no cap. */
  maxListeners(): number;
  /**
   * `connection` and `persistent` modes: the connection's or user's shared
   * container, created if need be and held by the connection (`ssh -N -R`).
   */
  holdShared(connectionId: string, user: string, container: ContainerConfig): Promise<string>;
  /** Whether capsule's tools (capsule-relay) are in the containers. */
  toolsReady(): boolean;
  /** `session` mode: how long a forward asked for before any session waits for one (default 10 s). */
  waitForSessionMs?: number;
  /** Told of every forwarded connection and refusal (the audit). */
  observe?(event: ForwardEvent, fields: Record<string, string | number | boolean>): void;
}

/** One `ssh -R` listener. */
interface Listener {
  target: ListenTarget;
  relay: RelayListener;
}

/** What one connection forwards back. */
interface ConnectionForwards {
  owner: ForwardOwner;
  channels: ClientChannels;
  listeners: Map<string, Listener>;
  /** Requests still starting, counted against the cap. */
  starting: number;
  agent?: { socket: string; relays: Map<string, Promise<RelayListener | undefined>> };
  closed: boolean;
}

const DEFAULT_WAIT_FOR_SESSION_MS = 10_000;

function keyOf(target: ListenTarget): string {
  return target.kind === "tcp" ? `tcp:${target.host}:${target.port}` : `unix:${target.path}`;
}

function fieldsOf(target: ListenTarget): Record<string, string | number> {
  return target.kind === "tcp"
    ? { host: target.host.slice(0, 255), port: target.port }
    : { socket: target.path.slice(0, 255) };
}

/**
 * The address a remote listener binds in the container: the container's
 * loopback unless `gatewayPorts` lets the client choose, as OpenSSH's sshd
 * does; `undefined` for an address that is not an IP, `*`, empty or
 * `localhost`.
 */
export function bindAddress(host: string, gatewayPorts: boolean): string | undefined {
  if (!gatewayPorts) return "127.0.0.1";
  if (host === "" || host === "*" || host === "0.0.0.0") return "0.0.0.0";
  if (host === "localhost") return "127.0.0.1";
  if (/^\d{1,3}(\.\d{1,3}){3}$/.test(host)) return host;
  if (/^[0-9A-Fa-f:.]{2,45}$/.test(host) && host.includes(":")) return host;
  return undefined;
}

/**
 * Remote forwarding (`ssh -R`) and agent forwarding (`ssh -A`): capsule's
 * relay listens inside the container of the connection's session, as the
 * container's user, and each connection made to it there becomes a channel
 * to the client (`forwarded-tcpip`, `forwarded-streamlocal@openssh.com`,
 * `auth-agent@openssh.com`). So a `-R` port is on the container's loopback,
 * never the host's, and the agent socket is a file only the container's user
 * can open. Everything a connection forwards goes when it closes.
 */
export class RemoteForwarder implements RemoteForwarding {
  readonly #runtime: ContainerRuntime;
  readonly #options: RemoteForwarderOptions;
  readonly #connections = new Map<string, ConnectionForwards>();

  /**
   * @param runtime the engine
   * @param options the connection registry, policy and limits
   */
  constructor(runtime: ContainerRuntime, options: RemoteForwarderOptions) {
    this.#runtime = runtime;
    this.#options = options;
  }

  connected(owner: ForwardOwner, channels: ClientChannels): void {
    this.#connections.set(owner.connectionId, {
      owner,
      channels,
      listeners: new Map(),
      starting: 0,
      closed: false,
    });
  }

  disconnected(connectionId: string): void {
    const forwards = this.#connections.get(connectionId);
    if (!forwards) return;
    this.#connections.delete(connectionId);
    forwards.closed = true;
    for (const listener of forwards.listeners.values()) void listener.relay.stop();
    forwards.listeners.clear();
    for (const relay of forwards.agent?.relays.values() ?? []) {
      void relay.then((r) => r?.stop());
    }
  }

  async listen(
    connectionId: string,
    target: ListenTarget,
  ): Promise<{ port: number } | { refused: string }> {
    const forwards = this.#connections.get(connectionId);
    if (!forwards) return { refused: "the connection is gone" };
    const refused = (reason: string) => {
      this.#refused(forwards, "remote", fieldsOf(target), reason, true);
      return { refused: reason };
    };
    const container = this.#options.containerFor(forwards.owner);
    if (!container.forwarding.remote) {
      return refused("remote forwarding is off for this user (container.forwarding.remote)");
    }
    const certificate = forwards.owner.identity.certificate;
    if (certificate && !certificate.permitPortForwarding) {
      return refused("the certificate does not permit port forwarding");
    }
    if (!this.#options.toolsReady()) return refused("capsule's tools are not installed");
    let bind: RelayBind;
    if (target.kind === "tcp") {
      if (!Number.isInteger(target.port) || target.port < 0 || target.port > 65535) {
        return refused("port out of range");
      }
      const address = bindAddress(target.host, container.forwarding.gatewayPorts);
      if (address === undefined) return refused("listen address not allowed");
      bind = { kind: "tcp", address, port: target.port };
    } else {
      if (!isPlainSocketPath(target.path)) return refused("socket path not allowed");
      bind = { kind: "unix", path: target.path };
    }
    // A port 0 forward is known by the port it gets (its cancel names that one).
    if (forwards.listeners.has(keyOf(target))) return refused("already forwarded");
    const cap = this.#options.maxListeners();
    if (cap > 0 && forwards.listeners.size + forwards.starting >= cap) {
      return refused(`too many remote forwards (${cap})`);
    }
    forwards.starting++;
    try {
      let containerId: string | undefined;
      try {
        containerId = await this.#containerFor(forwards, container);
      } catch (error) {
        const reason = `no container to listen in: ${describeError(error)}`;
        this.#refused(forwards, "remote", fieldsOf(target), reason, false);
        return { refused: reason };
      }
      if (containerId === undefined) {
        return refused("no session is running on this connection to forward to");
      }
      if (forwards.closed) return { refused: "the connection is gone" };
      let relay: RelayListener;
      // A connection may come in the same read as the relay's "listening".
      const bound = { port: target.kind === "tcp" ? target.port : 0 };
      try {
        relay = await RelayListener.start(this.#runtime, containerId, bind, {
          user: container.user,
          shell: container.shell,
          onConnection: (connection) => void this.#serveRemote(forwards, target, bound, connection),
        });
        if (target.kind === "tcp") bound.port = Number(relay.bound);
      } catch (error) {
        const reason = `the listener could not start: ${describeError(error)}`;
        this.#refused(forwards, "remote", fieldsOf(target), reason, false);
        return { refused: reason };
      }
      if (forwards.closed) {
        await relay.stop();
        return { refused: "the connection is gone" };
      }
      const listener = { target, relay };
      const key = keyOf(target.kind === "tcp" ? { ...target, port: bound.port } : target);
      forwards.listeners.set(key, listener);
      const port = bound.port;
      forwards.owner.logger.info("forward.listen", { ...fieldsOf(target), bound: relay.bound });
      void relay.done.then(() => {
        if (forwards.listeners.get(key) === listener) {
          forwards.listeners.delete(key);
          forwards.owner.logger.info("forward.unlisten", {
            ...fieldsOf(target),
            reason: relay.exitReason,
          });
        }
      });
      return { port };
    } finally {
      forwards.starting--;
    }
  }

  /**
   * Where a connection's remote forward listens: the container of its
   * running session; else, in `connection` and `persistent` modes, the
   * shared container (made if need be, held by the connection); in `session`
   * mode the container of the first session within the wait, if any.
   */
  #containerFor(
    forwards: ConnectionForwards,
    container: ContainerConfig,
  ): Promise<string | undefined> {
    const { connectionId, identity } = forwards.owner;
    const latest = this.#options.containers.latest(connectionId);
    if (latest !== undefined) return Promise.resolve(latest);
    if (container.mode !== "session") {
      return this.#options.holdShared(connectionId, identity.username, container);
    }
    return this.#options.containers.whenPlaced(
      connectionId,
      this.#options.waitForSessionMs ?? DEFAULT_WAIT_FOR_SESSION_MS,
    );
  }

  async cancel(connectionId: string, target: ListenTarget): Promise<boolean> {
    const forwards = this.#connections.get(connectionId);
    const listener = forwards?.listeners.get(keyOf(target));
    if (!forwards || !listener) return false;
    forwards.listeners.delete(keyOf(target));
    forwards.owner.logger.info("forward.unlisten", fieldsOf(target));
    await listener.relay.stop();
    return true;
  }

  /**
   * `auth-agent-req@openssh.com` on one of the connection's sessions: the
   * socket path its sessions get as `SSH_AUTH_SOCK` (one per connection), or
   * why not.
   */
  agentSocket(connectionId: string): { socket: string } | { refused: string } {
    const forwards = this.#connections.get(connectionId);
    if (!forwards) return { refused: "the connection is gone" };
    const container = this.#options.containerFor(forwards.owner);
    if (!container.forwarding.agent) {
      return { refused: "agent forwarding is off for this user (container.forwarding.agent)" };
    }
    const certificate = forwards.owner.identity.certificate;
    if (certificate && !certificate.permitAgentForwarding) {
      return { refused: "the certificate does not permit agent forwarding" };
    }
    if (!this.#options.toolsReady()) return { refused: "capsule's tools are not installed" };
    if (!forwards.agent) {
      const id = crypto.randomUUID().replaceAll("-", "").slice(0, 12);
      forwards.agent = { socket: `/tmp/capsule-agent-${id}/agent.sock`, relays: new Map() };
    }
    return { socket: forwards.agent.socket };
  }

  /**
   * A session with agent forwarding runs in `containerId`: starts the agent
   * relay there, once per connection and container, if it is not running.
   */
  agentPlaced(connectionId: string, containerId: string): void {
    const forwards = this.#connections.get(connectionId);
    const agent = forwards?.agent;
    if (!forwards || !agent || agent.relays.has(containerId)) return;
    const container = this.#options.containerFor(forwards.owner);
    const started = RelayListener.start(
      this.#runtime,
      containerId,
      { kind: "agent", path: agent.socket },
      {
        user: container.user,
        shell: container.shell,
        onConnection: (connection) => void this.#serveAgent(forwards, connection),
      },
    ).then((relay) => {
      if (forwards.closed) {
        void relay.stop();
        return undefined;
      }
      forwards.owner.logger.info("forward.listen", { kind: "agent", socket: agent.socket });
      void relay.done.then(() => agent.relays.delete(containerId));
      return relay;
    }, (error) => {
      agent.relays.delete(containerId);
      this.#refused(
        forwards,
        "agent",
        { socket: agent.socket },
        `the agent socket could not be made: ${describeError(error)}`,
        false,
      );
      return undefined;
    });
    agent.relays.set(containerId, started);
  }

  #serveRemote(
    forwards: ConnectionForwards,
    target: ListenTarget,
    bound: { port: number },
    connection: RelayConnection,
  ): Promise<void> {
    return this.#serve(forwards, "remote", fieldsOf(target), connection, () => {
      if (target.kind === "unix") return forwards.channels.forwardedStreamLocal(target.path);
      const [host = "", port = "0"] = connection.peer.split(" ");
      return forwards.channels.forwardedTcpip(
        { host: target.host, port: bound.port },
        { host, port: Number(port) },
      );
    });
  }

  #serveAgent(forwards: ConnectionForwards, connection: RelayConnection): Promise<void> {
    return this.#serve(
      forwards,
      "agent",
      { socket: forwards.agent?.socket ?? "" },
      connection,
      () => forwards.channels.agent(),
    );
  }

  /** One connection made to a relay in the container: a channel to the client, spliced. */
  async #serve(
    forwards: ConnectionForwards,
    kind: "remote" | "agent",
    where: Record<string, string | number>,
    connection: RelayConnection,
    open: () => Promise<TunnelEnd>,
  ): Promise<void> {
    const release = this.#options.budget.take(forwards.owner.connectionId);
    if (!release) {
      connection.close();
      this.#refused(
        forwards,
        kind,
        where,
        `too many forwarded channels (${this.#options.budget.cap})`,
        true,
      );
      return;
    }
    try {
      let end: TunnelEnd;
      try {
        end = await open();
      } catch (error) {
        connection.close();
        this.#refused(forwards, kind, where, `the client refused: ${describeError(error)}`, false);
        return;
      }
      const base = {
        connection: forwards.owner.connectionId,
        user: forwards.owner.identity.username,
        kind,
        ...where,
      };
      forwards.owner.logger.info("forward.open", { kind, ...where });
      this.#options.observe?.("forward.open", base);
      const started = performance.now();
      const counts = await spliceRelay(connection, end);
      const duration = Math.round(performance.now() - started);
      forwards.owner.logger.info("forward.close", { kind, ...where, duration_ms: duration });
      this.#options.observe?.("forward.close", {
        ...base,
        duration_ms: duration,
        bytes_in: counts.bytesIn,
        bytes_out: counts.bytesOut,
      });
    } finally {
      release();
    }
  }

  #refused(
    forwards: ConnectionForwards,
    kind: "remote" | "agent",
    where: Record<string, string | number>,
    reason: string,
    prohibited: boolean,
  ): void {
    forwards.owner.logger.info("forward.refused", { kind, ...where, reason });
    this.#options.observe?.("forward.refused", {
      connection: forwards.owner.connectionId,
      user: forwards.owner.identity.username,
      kind,
      ...where,
      reason,
      prohibited,
    });
  }
}
