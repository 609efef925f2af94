import { z } from "zod";
import { hostPath } from "./host_path_schema.ts";
import { parseListen } from "./parse_listen.ts";
import { parseMaxStartups } from "./parse_max_startups.ts";
import { boolean, integer, list, matching, object, string } from "./value_schemas.ts";

function listens(listen: string): boolean {
  try {
    parseListen(listen);
    return true;
  } catch {
    return false;
  }
}

/** Per-source penalties: seconds added per event, refused while above `min`, capped at `max`. */
export const PenaltyConfig = object({
  enabled: boolean().describe("Keep per-source penalties.").default(true),
  authFail: integer({ min: 0 })
    .describe("Seconds added for a connection that failed authentication and never succeeded.")
    .default(5),
  noAuth: integer({ min: 0 })
    .describe("Seconds added for a connection closed without any authentication attempt.")
    .default(1),
  loginTimeout: integer({ min: 0 })
    .describe("Seconds added for a connection cut by the login timeout.")
    .default(10),
  min: integer({ min: 0 })
    .describe("A source is refused while its penalty exceeds this many seconds.")
    .default(15),
  max: integer({ min: 0 }).describe("The most seconds a penalty can grow to.").default(600),
});
/** Per-source penalties: seconds added per event, refused while above `min`, capped at `max`. */
export type PenaltyConfig = z.output<typeof PenaltyConfig>;

/** The `server.metrics` section: where `/metrics`, `/healthz` and `/readyz` are served. */
export const MetricsConfig = object({
  listen: string()
    .refine((v) => v === "" || listens(v), {
      error: `"" or "host:port" like "127.0.0.1:9222"`,
    })
    .describe("`host:port` serving `/metrics`, `/healthz` and `/readyz`; empty for none.")
    .default(""),
});
/** The `server.metrics` section. */
export type MetricsConfig = z.output<typeof MetricsConfig>;

/** A user name as the config's `users` keys spell it. */
const USER_NAME = /^[A-Za-z_][A-Za-z0-9_.-]{0,31}$/;

/**
 * The `server.userSockets` section: the unix sockets behind OpenSSH's forced
 * command (`capsule spawn`), one per user in a directory only that user can
 * enter.
 */
export const UserSocketsConfig = object({
  dir: string()
    .refine((v) => v === "" || v.startsWith("/"), { error: `"" or an absolute path` })
    .describe(
      "Directory of the per-user sockets of `capsule spawn` (`DIR/USER/capsule.sock`, each `DIR/USER` owned by that Unix user, mode 0700), e.g. `/run/capsule/users`; empty for none.",
    )
    .default(""),
  users: list(matching(USER_NAME, "a user name of `users`"))
    .describe("The users who get a socket; empty for every user of `users`.")
    .default([]),
});
/** The `server.userSockets` section. */
export type UserSocketsConfig = z.output<typeof UserSocketsConfig>;

/** The `server` section: listening, host keys, limits around authentication, lifecycle. */
export const ServerConfig = object({
  listen: string()
    .refine(listens, {
      error: `"host:port" with a port from 0 to 65535, like "127.0.0.1:2222" or "[::1]:2222"`,
    })
    .describe("`host:port` to listen on, e.g. `127.0.0.1:2222` or `[::1]:2222`.")
    .default("127.0.0.1:2222"),
  hostKeys: list(hostPath())
    .describe("Paths of host private key files; empty to generate one in `stateDir`.")
    .default([]),
  stateDir: hostPath()
    .describe("Directory for generated state such as host keys (`~` is expanded).")
    .default("~/.local/state/capsule"),
  banner: string().describe("Text shown before authentication; empty for none.").default(""),
  loginTimeout: integer({ min: 1, max: 3600 })
    .describe("Seconds from accept to successful authentication.")
    .default(60),
  maxAuthTries: integer({ min: 1, max: 100 })
    .describe("Failed authentication attempts before the connection is closed.")
    .default(6),
  maxStartups: string()
    .refine((v) => parseMaxStartups(v) !== undefined, {
      error: `"start:rate:full" like "10:30:100" (start <= full, rate 0-100)`,
    })
    .describe("`start:rate:full` random early drop of unauthenticated connections (MaxStartups).")
    .default("10:30:100"),
  maxStartupsPerSource: integer({ min: 1 })
    .describe("Unauthenticated connections one source address may hold.")
    .default(8),
  maxSessions: integer({ min: 1, max: 1000 })
    .describe("Session channels open at once per connection.")
    .default(10),
  idleTimeout: integer({ min: 0 })
    .describe("Seconds an authenticated connection may stay without a channel; 0 for no limit.")
    .default(300),
  keepaliveInterval: integer({ min: 1 }).describe("Seconds between keepalive probes.").default(15),
  keepaliveCountMax: integer({ min: 1 })
    .describe("Unanswered keepalives before the connection is dropped.")
    .default(3),
  penalties: PenaltyConfig
    .describe("Per-source penalties, as OpenSSH's PerSourcePenalties (seconds).")
    .prefault({}),
  instance: matching(
    /^[A-Za-z0-9._:-]{0,64}$/,
    `"" or a name of letters, digits, ".", "_", "-", ":" (at most 64)`,
  )
    .describe("Name of this server's containers on the engine; empty to use `listen`.")
    .default(""),
  drainTimeout: integer({ min: 0 })
    .describe("Seconds sessions may run on after SIGTERM before they are closed.")
    .default(30),
  sweepInterval: integer({ min: 1 })
    .describe("Seconds between sweeps for containers no live session owns.")
    .default(60),
  metrics: MetricsConfig
    .describe("Prometheus metrics and health checks over HTTP.")
    .prefault({}),
  userSockets: UserSocketsConfig
    .describe(
      "Behind your own sshd: per-user unix sockets that `capsule spawn` (an OpenSSH forced command) connects to.",
    )
    .prefault({}),
});
/** The `server` section. */
export type ServerConfig = z.output<typeof ServerConfig>;
