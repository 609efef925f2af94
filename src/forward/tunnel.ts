import type { Identity } from "../auth/mod.ts";
import type { Logger } from "../log/mod.ts";

/** Where a forwarded channel goes, as seen from inside the container. */
export type TunnelTarget =
  | { kind: "tcp"; host: string; port: number }
  | { kind: "unix"; path: string };

/** A client's request to open a forwarded channel (`direct-tcpip`, `direct-streamlocal`). */
export interface TunnelRequest {
  connectionId: string;
  identity: Identity;
  logger: Logger;
  target: TunnelTarget;
}

/** The SSH side of an accepted forwarded channel. */
export interface TunnelEnd {
  /** Bytes from the client, ending at the client's EOF. */
  readonly incoming: AsyncIterable<Uint8Array>;
  /** Sends bytes to the client; resolves once the channel took them (backpressure). */
  write(data: Uint8Array): Promise<void>;
  /** Sends EOF and closes the channel. */
  end(): void;
  /** Sends EOF only: the other direction carries on (half-close). */
  eof?(): void;
  /** Aborted once the channel is closed, by either side. */
  readonly closed: AbortSignal;
}

/** What to do with a forwarded channel: refuse it, or accept it and pipe it. */
export type TunnelDecision =
  | {
    /** The reason, for the log. */
    refused: string;
    /** `true` for a policy refusal ("administratively prohibited"), `false` for a failed connect. */
    prohibited: boolean;
  }
  | {
    /** Pipes the accepted channel until either side ends; never throws. */
    pipe(end: TunnelEnd): Promise<void>;
    /** Gives the relay up without piping (the client left meanwhile). */
    discard(): Promise<void>;
  };

/** Decides on and serves forwarded channels. */
export type TunnelOpener = (request: TunnelRequest) => Promise<TunnelDecision>;

/** Who forwards: the connection, its user, its log. */
export interface ForwardOwner {
  connectionId: string;
  identity: Identity;
  logger: Logger;
}

/** Where a remote forward listens in the container (`tcpip-forward`, `streamlocal-forward@openssh.com`). */
export type ListenTarget =
  | { kind: "tcp"; host: string; port: number }
  | { kind: "unix"; path: string };

/** Channels capsule opens back to the client; the SSH edge implements them. */
export interface ClientChannels {
  /** `forwarded-tcpip`: `listen` as the client asked for it (with the port bound), `origin` the connecting peer. */
  forwardedTcpip(
    listen: { host: string; port: number },
    origin: { host: string; port: number },
  ): Promise<TunnelEnd>;
  /** `forwarded-streamlocal@openssh.com` for the socket the client asked for. */
  forwardedStreamLocal(path: string): Promise<TunnelEnd>;
  /** `auth-agent@openssh.com`: a channel to the client's agent. */
  agent(): Promise<TunnelEnd>;
}

/** Remote forwarding (`ssh -R`) as the SSH edge drives it. */
export interface RemoteForwarding {
  /** A connection authenticated: its channels back to the client. */
  connected(owner: ForwardOwner, channels: ClientChannels): void;
  /** `tcpip-forward`, `streamlocal-forward@openssh.com`: the bound port (0 for a socket), or why not. */
  listen(
    connectionId: string,
    target: ListenTarget,
  ): Promise<{ port: number } | { refused: string }>;
  /** `cancel-tcpip-forward`, `cancel-streamlocal-forward@openssh.com`: whether there was one. */
  cancel(connectionId: string, target: ListenTarget): Promise<boolean>;
  /** The connection closed: everything it forwarded goes. */
  disconnected(connectionId: string): void;
}
