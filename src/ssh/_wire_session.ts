// @ts-types="@types/ssh2"
import type { Connection, ServerChannel, Session as Ssh2Session } from "ssh2";
import type { Session, SessionRequest } from "../session/mod.ts";
import { ChannelIO } from "./channel_io.ts";
import { closeUnstartedChannel } from "./_unstarted_channel.ts";
import { keepRequestsAfterEof } from "./_requests_after_eof.ts";

/** Refused start requests after which a session channel is closed. */
const MAX_REFUSALS = 3;

/** Routes one ssh2 session channel's requests to our session state machine. */
export function wireSession(
  client: Connection,
  channel: Ssh2Session,
  session: Session,
  onClose: () => void,
): void {
  let io: ChannelIO | undefined;
  let refusals = 0;
  const reply = (ok: boolean, accept?: () => void, reject?: () => void) =>
    ok ? accept?.() : reject?.();
  keepRequestsAfterEof(channel);

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
  channel.on("auth-agent", (accept, reject) => reply(session.agent(), accept, reject));
  channel.on("signal", (accept, reject, info) => {
    reply(session.signal(String(info.name)), accept, reject);
  });
  const start = (
    request: SessionRequest,
    accept: () => ServerChannel | undefined,
    reject?: () => void,
  ) => {
    if (!session.canStart) return reject?.();
    if (!session.admits(request)) {
      reject?.();
      // A client that keeps asking for what policy refuses gets the channel
      // closed, instead of a log line (and an audit line) per request for ever.
      if (++refusals >= MAX_REFUSALS && closeUnstartedChannel(client, channel)) closed();
      return;
    }
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
  channel.on(
    "subsystem",
    (accept, reject, info) => start({ kind: "subsystem", name: info.name }, accept, reject),
  );
  let ended = false;
  const closed = () => {
    if (ended) return;
    ended = true;
    io?.closed();
    session.close();
    onClose();
  };
  channel.on("close", () => {
    // A channel closed before it started still needs its CHANNEL_CLOSE answered.
    if (!io) closeUnstartedChannel(client, channel);
    closed();
  });
}
