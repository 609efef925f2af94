// @ts-types="@types/ssh2"
import type { Connection, ServerChannel } from "ssh2";

/** ssh2's window and packet size for channels it opens (lib/Channel.js, 1.17.0). */
const MAX_WINDOW = 2 * 1024 * 1024;
const PACKET_SIZE = 32 * 1024;

type OpenCallback = ((error: Error | undefined, channel: ServerChannel) => void) & {
  type?: string;
};

interface AgentInternals {
  _chanMgr?: { add(callback: OpenCallback): number };
  _protocol?: { openssh_authAgent(channel: number, window: number, packet: number): void };
}

/**
 * Opens an `auth-agent@openssh.com` channel to the client (agent
 * forwarding). ssh2 1.17.0's server has no public call for it (its
 * `openChannel` knows only x11 and the forwarded kinds), but its protocol
 * object sends the open and its channel manager routes the confirmation:
 * this does what `openChannel` does, for this type. Pinned to ssh2 1.17.0 and
 * covered end to end (`ssh -A`, then `ssh-add -l` in the container).
 */
export function openAgentChannel(client: Connection): Promise<ServerChannel> {
  const internals = client as unknown as AgentInternals;
  const manager = internals._chanMgr;
  const protocol = internals._protocol;
  if (!manager || !protocol || typeof protocol.openssh_authAgent !== "function") {
    return Promise.reject(new Error("this ssh2 version cannot open agent channels"));
  }
  return new Promise((resolve, reject) => {
    const opened: OpenCallback = (error, channel) => error ? reject(error) : resolve(channel);
    // The confirmation handler reads the type to label the channel.
    opened.type = "auth-agent@openssh.com";
    const id = manager.add(opened);
    if (id === -1) {
      reject(new Error("no free channels"));
      return;
    }
    protocol.openssh_authAgent(id, MAX_WINDOW, PACKET_SIZE);
  });
}
