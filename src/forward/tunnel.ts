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
