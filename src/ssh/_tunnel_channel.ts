// @ts-types="@types/ssh2"
import type { Connection, ServerChannel } from "ssh2";
import type { TunnelEnd } from "../forward/mod.ts";
import { ChannelClosedError, readChunks } from "./channel_io.ts";

/** A forwarded channel as the forwarding layer sees it: bytes in, bytes out, end, closed. */
export function tunnelEnd(channel: ServerChannel): TunnelEnd {
  const closed = new AbortController();
  channel.once("close", () => closed.abort(new ChannelClosedError()));
  channel.on("error", () => {}); // a reset peer ends the channel; "close" follows
  return {
    incoming: readChunks(channel),
    closed: closed.signal,
    write(data) {
      if (closed.signal.aborted) return Promise.reject(new ChannelClosedError());
      return new Promise<void>((resolve, reject) => {
        const onClose = () => reject(new ChannelClosedError());
        closed.signal.addEventListener("abort", onClose, { once: true });
        channel.write(data, (error?: Error | null) => {
          closed.signal.removeEventListener("abort", onClose);
          if (error) reject(error);
          else resolve();
        });
      });
    },
    end() {
      // On a server channel, end() sends EOF and then CHANNEL_CLOSE.
      if (!closed.signal.aborted) channel.end();
    },
    eof() {
      if (!closed.signal.aborted) channel.eof();
    },
  };
}

/** SSH_OPEN_ADMINISTRATIVELY_PROHIBITED (RFC 4254 5.1). */
const ADMINISTRATIVELY_PROHIBITED = 1;

interface ProtocolInternals {
  _protocol?: {
    channelOpenFail(recipient: number, reason: number, description: string): void;
  };
}

/**
 * Refuses a channel open with "administratively prohibited", as OpenSSH does
 * for a forward its policy forbids. ssh2 1.17.0's `reject()` for a channel it
 * has already reserved always answers "connect failed"; for the duration of
 * that synchronous call this swaps the reason its protocol object sends.
 */
export function rejectProhibited(client: Connection, reject: () => void): void {
  const protocol = (client as unknown as ProtocolInternals)._protocol;
  if (!protocol) return reject();
  const original = protocol.channelOpenFail;
  protocol.channelOpenFail = (recipient, _reason, description) =>
    original.call(protocol, recipient, ADMINISTRATIVELY_PROHIBITED, description);
  try {
    reject();
  } finally {
    protocol.channelOpenFail = original;
  }
}
