import { parseSize } from "./parse_size.ts";
import { mismatch, type Schema } from "./schema.ts";

/** A size in bytes, written as in {@linkcode parseSize}. */
export function size(): Schema<number> {
  const expected = `a size like "256m"`;
  return {
    kind: "leaf",
    expected,
    fromText: (text) => text,
    parse(input, path) {
      if (typeof input !== "string" && typeof input !== "number") {
        return mismatch(path, expected, input);
      }
      try {
        return { ok: true, value: parseSize(input) };
      } catch {
        return mismatch(path, expected, input);
      }
    },
  };
}
