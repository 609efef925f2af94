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
