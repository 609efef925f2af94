// @ts-types="@types/ssh2"
import type { Connection, ServerChannel } from "ssh2";
import { describeError } from "../errors/mod.ts";
import type {
  ClientChannels,
  ForwardOwner,
  ListenTarget,
  RemoteForwarding,
  TunnelEnd,
} from "../forward/mod.ts";
import { openAgentChannel } from "./_agent_channel.ts";
import { tunnelEnd } from "./_tunnel_channel.ts";

/** The channels capsule opens back to the client, over ssh2's calls. */
export function clientChannels(client: Connection): ClientChannels {
  const opened = (
    open: (callback: (error: Error | undefined, channel: ServerChannel) => void) => void,
  ) =>
    new Promise<TunnelEnd>((resolve, reject) => {
      try {
        open((error, channel) => error ? reject(error) : resolve(tunnelEnd(channel)));
      } catch (error) {
        reject(error);
      }
    });
  return {
    forwardedTcpip: (listen, origin) =>
      opened((callback) =>
        client.forwardOut(listen.host, listen.port, origin.host, origin.port, callback)
      ),
    forwardedStreamLocal: (path) =>
      opened((callback) => client.openssh_forwardOutStreamLocal(path, callback)),
    agent: () => openAgentChannel(client).then(tunnelEnd),
  };
}

/** The request names ssh2 passes to "request", with what each carries. */
interface ForwardRequestInfo {
  bindAddr?: string;
  bindPort?: number;
  socketPath?: string;
}

function targetOf(name: string, info: ForwardRequestInfo): ListenTarget | undefined {
  if (name === "tcpip-forward" || name === "cancel-tcpip-forward") {
    return {
      kind: "tcp",
      host: String(info.bindAddr ?? "").slice(0, 255),
      port: Number(info.bindPort),
    };
  }
  if (name.endsWith("streamlocal-forward@openssh.com")) {
    return { kind: "unix", path: String(info.socketPath ?? "").slice(0, 1024) };
  }
  return undefined;
}

/**
 * Routes a connection's global requests for remote forwarding
 * (`tcpip-forward`, `streamlocal-forward@openssh.com` and their cancels) to
 * the forwarding layer, and gives it the connection's channels back to the
 * client. A refused request gets `REQUEST_FAILURE`, which OpenSSH reports as
 * "remote port forwarding failed"; ssh2 sends the replies in request order.
 */
export function wireRemote(client: Connection, owner: ForwardOwner, forwarding: RemoteForwarding) {
  forwarding.connected(owner, clientChannels(client));
  client.once("close", () => forwarding.disconnected(owner.connectionId));
  client.on("request", (accept, reject, name, info) => {
    const target = targetOf(name, info as ForwardRequestInfo);
    if (!target) {
      reject?.();
      return;
    }
    void (async () => {
      try {
        if (name.startsWith("cancel-")) {
          (await forwarding.cancel(owner.connectionId, target)) ? accept?.() : reject?.();
          return;
        }
        const decision = await forwarding.listen(owner.connectionId, target);
        if ("refused" in decision) reject?.();
        else (accept as ((port?: number) => void) | undefined)?.(decision.port);
      } catch (error) {
        owner.logger.warn("forward.error", { error: describeError(error) });
        reject?.();
      }
    })();
  });
}
