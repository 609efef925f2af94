// @ts-types="@types/ssh2"
import type { Connection, Session as Ssh2Session } from "ssh2";

/** The parts of ssh2 1.17.0's internals that closing an unstarted channel needs. */
interface Ssh2Internals {
  _protocol?: { channelClose(remoteId: number): void };
  _chanMgr?: { remove(localId: number): void };
}
interface Ssh2SessionInternals {
  _channel?: unknown;
  _chanInfo?: { incoming: { id: number }; outgoing: { id: number } };
}

/**
 * Answers a client's CHANNEL_CLOSE for a session channel that never started
 * (no `shell`, `exec` or `subsystem` was accepted), and frees its channel id.
 *
 * RFC 4254 5.3 requires the answer. ssh2 1.17.0 sends it only for a channel
 * it has handed out as a stream: for a bare session it emits `close` and
 * returns, so a client waiting for the reply hangs (an OpenSSH ControlMaster
 * holds the mux client until the whole connection goes). ssh2 has no public
 * call for this, hence its internals; the version is pinned in deno.json and
 * the e2e suite covers it.
 *
 * @returns whether a close was sent (false when ssh2 handles the channel itself)
 */
export function closeUnstartedChannel(client: Connection, channel: Ssh2Session): boolean {
  const session = channel as unknown as Ssh2SessionInternals;
  const internals = client as unknown as Ssh2Internals;
  if (session._channel !== undefined || !session._chanInfo) return false;
  if (!internals._protocol || !internals._chanMgr) return false;
  internals._chanMgr.remove(session._chanInfo.incoming.id);
  internals._protocol.channelClose(session._chanInfo.outgoing.id);
  return true;
}
