// @ts-types="@types/ssh2"
import type { Session as Ssh2Session } from "ssh2";

interface SessionInternals {
  _ending?: boolean;
  _channel?: unknown;
}

/**
 * Keeps a started session taking `signal` and `window-change` requests after
 * the client's EOF, as RFC 4254 allows and OpenSSH's sshd does: the client
 * has only finished sending input, its process still runs. ssh2 1.17.0
 * marks the session as ending at EOF and refuses every later request, so a
 * command whose input was piped in (`capsule spawn` relaying a signal from
 * sshd after standard input ended) could no longer be interrupted. Pinned to
 * ssh2 1.17.0 (its `Session`'s `_ending` and `_channel`); the channel's close
 * still ends it. Covered end to end (tests/e2e/behind_sshd_e2e_test.ts).
 *
 * @returns whether this ssh2 has the internals to do it
 */
export function keepRequestsAfterEof(session: Ssh2Session): boolean {
  const internals = session as unknown as SessionInternals;
  if (typeof internals._ending !== "boolean") return false;
  session.on("eof", () => {
    if (internals._channel) internals._ending = false;
  });
  return true;
}
