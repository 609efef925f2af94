// @ts-types="@types/ssh2"
import type { ClientChannel } from "ssh2";

/** How a remote command or shell ended. */
export interface ExitStatus {
  /** The exit status; `null` when a signal ended it, or the channel closed without one. */
  status: number | null;
  /** The signal that ended it, without `SIG` (e.g. `TERM`); `null` otherwise. */
  signal: string | null;
}

/** Resolves with how `channel`'s command ended, once the channel has closed. */
export function exitOf(channel: ClientChannel): Promise<ExitStatus> {
  const exit: ExitStatus = { status: null, signal: null };
  channel.on("exit", (code: number | null, signal?: string) => {
    if (typeof code === "number") exit.status = code;
    else if (typeof signal === "string") exit.signal = signal.replace(/^SIG/, "");
  });
  return new Promise((resolve) => channel.once("close", () => resolve(exit)));
}
