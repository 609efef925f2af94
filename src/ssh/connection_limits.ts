import type { PenaltyConfig } from "../config/types.ts";
import type { MaxStartups } from "../config/mod.ts";

/** Per-connection and pre-authentication limits of the SSH server. */
export interface ConnectionLimits {
  /** Milliseconds from accept to successful authentication. */
  loginTimeoutMs: number;
  /** Failed authentication attempts before the connection is closed. */
  maxAuthTries: number;
  maxStartups: MaxStartups;
  maxStartupsPerSource: number;
  /** Session channels open at once per connection. */
  maxSessions: number;
  /** Milliseconds an authenticated connection may stay without a channel; 0 for no limit. */
  idleTimeoutMs: number;
  /** Milliseconds between keepalives. */
  keepaliveIntervalMs: number;
  keepaliveCountMax: number;
  penalties: PenaltyConfig;
}

/** OpenSSH-like defaults, for tests and library use. */
export const DEFAULT_LIMITS: ConnectionLimits = {
  loginTimeoutMs: 60_000,
  maxAuthTries: 6,
  maxStartups: { start: 10, rate: 30, full: 100 },
  maxStartupsPerSource: 8,
  maxSessions: 10,
  idleTimeoutMs: 300_000,
  keepaliveIntervalMs: 15_000,
  keepaliveCountMax: 3,
  penalties: { enabled: true, authFail: 5, noAuth: 1, loginTimeout: 10, min: 15, max: 600 },
};
