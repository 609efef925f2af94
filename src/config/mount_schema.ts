import { z } from "zod";
import { hostPath } from "./host_path_schema.ts";
import { type Schema, schemaOf } from "./schema.ts";
import { absolutePath, boolean, object } from "./value_schemas.ts";

const EXPECTED = `a mount like "/srv/site:/var/www:ro" or { source, target, readOnly }`;

/** `source:target`, optionally `:ro` or `:rw`. */
const SHORT_FORM = /^[^:]*:[^:]*(?::(?:ro|rw))?$/;

const longForm = object({
  source: hostPath().describe("Absolute path on the host (`~` is expanded)."),
  target: absolutePath("/srv").describe("Absolute path in the container."),
  readOnly: boolean().describe("Mount read-only.").default(false),
});

/**
 * A bind mount, either `{ source, target, readOnly? }` or the short form
 * `"source:target"` / `"source:target:ro"` (or `:rw`). The source is a host
 * path (resolved like every other path); the target must be absolute.
 *
 * The input is one form or the other; the short form is then turned into the
 * long one, which validates the parts (a pipe, so that the host path is found
 * at its end, see `_resolveHostPaths`).
 */
export const MountConfig = z.union([
  z.string({ error: EXPECTED }).regex(SHORT_FORM, { error: EXPECTED }),
  longForm,
], { error: EXPECTED })
  .transform((input): z.input<typeof longForm> => {
    if (typeof input !== "string") return input;
    const [source = "", target = "", mode] = input.split(":");
    return { source, target, readOnly: mode === "ro" };
  })
  .pipe(longForm);

/** A bind mount from the host into a session container. */
export type MountConfig = z.output<typeof MountConfig>;

/** Capsule's schema of one mount (see {@linkcode MountConfig}). */
export function mount(): Schema<MountConfig> {
  return schemaOf(MountConfig);
}
