/** A SessionContext for unit tests of placements: no channel behind it. */
import { silentLogger } from "../../src/log/mod.ts";
import type { SessionContext } from "../../src/session/mod.ts";

/** Options of {@linkcode fakeSessionContext}. */
export interface FakeContextOptions {
  id?: string;
  connectionId?: string;
  user?: string;
  command?: string;
  signal?: AbortSignal;
}

/** A session context with harmless defaults: user alice, `true` as an exec request. */
export function fakeSessionContext(options: FakeContextOptions = {}): SessionContext {
  return {
    id: options.id ?? crypto.randomUUID().slice(0, 8),
    connectionId: options.connectionId ?? "c1",
    identity: { username: options.user ?? "alice", method: "password" },
    request: { kind: "exec", command: options.command ?? "true" },
    pty: undefined,
    env: {},
    io: {
      stdin: (async function* () {})(),
      write: () => Promise.resolve(),
    },
    logger: silentLogger(),
    signal: options.signal ?? new AbortController().signal,
    onResize() {},
    onSignal() {},
  };
}
