/** A SessionContext for unit tests of placements and handlers: no channel behind it. */
import type { Logger } from "../../src/log/mod.ts";
import { silentLogger } from "../../src/log/mod.ts";
import type { PtyInfo, SessionContext, SessionIO, SessionRequest } from "../../src/session/mod.ts";

/** Options of {@linkcode fakeSessionContext}. */
export interface FakeContextOptions {
  id?: string;
  connectionId?: string;
  user?: string;
  command?: string;
  /** The request; overrides `command`. */
  request?: SessionRequest;
  pty?: PtyInfo;
  env?: Record<string, string>;
  logger?: Logger;
  /** Receives what the session writes to the client; by default it is dropped. */
  write?: SessionIO["write"];
  signal?: AbortSignal;
}

/** A session context with harmless defaults: user alice, `true` as an exec request. */
export function fakeSessionContext(options: FakeContextOptions = {}): SessionContext {
  return {
    id: options.id ?? crypto.randomUUID().slice(0, 8),
    connectionId: options.connectionId ?? "c1",
    identity: { username: options.user ?? "alice", method: "password" },
    request: options.request ?? { kind: "exec", command: options.command ?? "true" },
    pty: options.pty,
    env: options.env ?? {},
    io: {
      stdin: (async function* () {})(),
      write: options.write ?? (() => Promise.resolve()),
    },
    logger: options.logger ?? silentLogger(),
    signal: options.signal ?? new AbortController().signal,
    onResize() {},
    onSignal() {},
  };
}
