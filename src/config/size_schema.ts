import { z } from "zod";
import { parseSize, SIZE_PATTERN } from "./parse_size.ts";

const EXPECTED = `a size like "256m"`;

/**
 * A size in bytes, written as in {@linkcode parseSize}: a whole number of
 * bytes, or text such as `"512m"`. The result is the number of bytes.
 */
export function size() {
  return z.union([
    z.string({ error: EXPECTED }).regex(SIZE_PATTERN, { error: EXPECTED }),
    z.int({ error: EXPECTED }).min(0, { error: EXPECTED }),
  ], { error: EXPECTED }).transform((input, context) => {
    try {
      return parseSize(input);
    } catch {
      // Only a size too big to count in bytes matches the pattern and still fails.
      context.addIssue({ code: "custom", message: EXPECTED, input });
      return z.NEVER;
    }
  });
}
