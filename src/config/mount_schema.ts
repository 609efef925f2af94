import type { MountConfig } from "./types.ts";
import { object } from "./object_schema.ts";
import {
  boolean,
  hostPath,
  mismatch,
  nonEmptyString,
  refine,
  type Schema,
  withDefault,
} from "./schema.ts";

const longForm = object<MountConfig>({
  source: hostPath(),
  target: refine(nonEmptyString(), `an absolute path like "/srv"`, (v) => v.startsWith("/")),
  readOnly: withDefault(boolean(), () => false),
});

/**
 * A bind mount, either `{ source, target, readOnly? }` or the short form
 * `"source:target"` / `"source:target:ro"` (or `:rw`). The source is a host
 * path (resolved like every other path); the target must be absolute.
 */
export function mount(): Schema<MountConfig> {
  const expected = `a mount like "/srv/site:/var/www:ro" or { source, target, readOnly }`;
  return {
    kind: "leaf",
    expected,
    parse(input, path, context) {
      if (typeof input !== "string") return longForm.parse(input, path, context);
      const parts = input.split(":");
      const mode = parts[2];
      if (
        parts.length < 2 || parts.length > 3 ||
        (mode !== undefined && mode !== "ro" && mode !== "rw")
      ) {
        return mismatch(path, expected, input);
      }
      return longForm.parse(
        { source: parts[0], target: parts[1], readOnly: mode === "ro" },
        path,
        context,
      );
    },
  };
}
