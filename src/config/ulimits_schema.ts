import { z } from "zod";
import { integer, object } from "./value_schemas.ts";

const EXPECTED = `a limit like 1024, "1024:4096" (soft:hard) or { soft, hard }`;
const ORDERED = `a limit whose soft value is at most its hard one, like "1024:4096"`;

/**
 * One resource limit (`ulimit`): an integer (soft and hard the same),
 * `"soft:hard"`, or `{ soft, hard }`, with soft at most hard. Parsed into
 * `{ soft, hard }`.
 */
export const Ulimit = z.union([
  z.int({ error: EXPECTED }).min(0, { error: EXPECTED }),
  z.string({ error: EXPECTED }).regex(/^\d+(?::\d+)?$/, { error: EXPECTED }),
  object({
    soft: integer({ min: 0 }).describe("Soft limit: what processes get."),
    hard: integer({ min: 0 }).describe("Hard limit: how far processes may raise the soft one."),
  }),
], { error: EXPECTED })
  .transform((input, context) => {
    if (typeof input === "object") return input;
    const [soft, hard = soft] = String(input).split(":").map(Number) as [number, number?];
    if (!Number.isSafeInteger(soft) || !Number.isSafeInteger(hard)) {
      context.addIssue({ code: "custom", message: EXPECTED, input });
      return z.NEVER;
    }
    return { soft, hard };
  })
  .refine((limit) => limit.soft <= limit.hard, { error: ORDERED });

/** One resource limit: `soft` is what processes get, `hard` how far they may raise it. */
export type Ulimit = z.output<typeof Ulimit>;

/**
 * Resource limits of a container's processes by name. Every key is optional:
 * the built-in defaults set `nofile` and `nproc` through the lowest layer, and
 * a user's `ulimits` merge key by key over the global ones.
 */
export const UlimitsConfig = object({
  nofile: Ulimit.describe("Open files per process (RLIMIT_NOFILE).").exactOptional(),
  nproc: Ulimit.describe("Processes of the container's user (RLIMIT_NPROC).").exactOptional(),
  core: Ulimit.describe("Size of core dumps in bytes (RLIMIT_CORE); 0 for none.")
    .exactOptional(),
});

/** Resource limits by name, each `{ soft, hard }`. */
export type UlimitsConfig = z.output<typeof UlimitsConfig>;
