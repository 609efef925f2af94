// @ts-types="@types/ssh2"
import type { AcceptConnection, Connection, RejectConnection, ServerChannel } from "ssh2";
import type { Identity } from "../auth/mod.ts";
import { describeError } from "../errors/mod.ts";
import type { TunnelOpener, TunnelTarget } from "../forward/mod.ts";
import type { Logger } from "../log/mod.ts";
import { rejectProhibited, tunnelEnd } from "./_tunnel_channel.ts";

/** Who is forwarding. */
interface TunnelOwner {
  connectionId: string;
  identity: Identity;
  logger: Logger;
}

/**
 * Routes a connection's `direct-tcpip` and `direct-streamlocal@openssh.com`
 * channel opens to the forwarding layer: a refusal by policy is answered
 * "administratively prohibited", a target that cannot be reached "connect
 * failed", each with a `forward.refused` log line; an accepted channel is
 * piped until either side ends.
 */
export function wireTunnels(client: Connection, owner: TunnelOwner, open: TunnelOpener): void {
  // ssh2 still hands out a channel after the connection closed, one that
  // never closes: a relay connected meanwhile is given up instead.
  let gone = false;
  client.once("close", () => (gone = true));
  const serve = async (
    target: TunnelTarget,
    accept: AcceptConnection<ServerChannel>,
    reject: RejectConnection,
  ) => {
    const where = target.kind === "tcp"
      ? { host: target.host.slice(0, 255), port: target.port }
      : { socket: target.path.slice(0, 255) };
    let decision;
    try {
      decision = await open({ ...owner, target });
    } catch (error) {
      decision = { refused: describeError(error), prohibited: false };
    }
    if ("refused" in decision) {
      owner.logger.info("forward.refused", { kind: "local", ...where, reason: decision.refused });
      if (decision.prohibited) rejectProhibited(client, reject);
      else reject();
      return;
    }
    const channel = gone ? undefined : accept();
    if (!channel) {
      await decision.discard();
      return;
    }
    owner.logger.info("forward.open", { kind: "local", ...where });
    const started = performance.now();
    await decision.pipe(tunnelEnd(channel));
    owner.logger.info("forward.close", {
      kind: "local",
      ...where,
      duration_ms: Math.round(performance.now() - started),
    });
  };
  client.on("tcpip", (accept, reject, info) => {
    void serve(
      { kind: "tcp", host: String(info.destIP), port: Number(info.destPort) },
      accept,
      reject,
    );
  });
  client.on("openssh.streamlocal", (accept, reject, info) => {
    void serve({ kind: "unix", path: String(info.socketPath) }, accept, reject);
  });
}
