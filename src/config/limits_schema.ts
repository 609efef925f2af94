import type { z } from "zod";
import { overrides } from "./object_schema.ts";
import { integer, object } from "./value_schemas.ts";

/** Caps on what users hold at once, over the whole server; 0 for no cap. */
export const LimitsConfig = object({
  sessionsPerUser: integer({ min: 0 })
    .describe(
      "Sessions (shell, exec, subsystem channels) one user may hold at once, over all their connections and modes; 0 for no cap.",
    )
    .default(10),
  connectionsPerUser: integer({ min: 0 })
    .describe("Authenticated SSH connections one user may hold at once; 0 for no cap.")
    .default(10),
  containers: integer({ min: 0 })
    .describe(
      "Containers on this server in total (all users and modes, the warm pool included); 0 for no cap.",
    )
    .default(500),
  forwardsPerConnection: integer({ min: 0 })
    .describe(
      "Forwarded channels (`ssh -L`, `-D`, `-R`, `-A`) one connection may have open at once; 0 for no cap.",
    )
    .default(32),
  listenersPerConnection: integer({ min: 0 })
    .describe("Remote forwarding listeners (`ssh -R`) one connection may hold; 0 for no cap.")
    .default(8),
});
/** Caps on what users hold at once, over the whole server; 0 for no cap. */
export type LimitsConfig = z.output<typeof LimitsConfig>;

/** A user's own caps, each overriding the global one when set. */
export const UserLimitsConfig = overrides(
  LimitsConfig.pick({ sessionsPerUser: true, connectionsPerUser: true }),
);
/** A user's own caps, each overriding the global one when set. */
export type UserLimitsConfig = z.output<typeof UserLimitsConfig>;
