const UNITS: Record<string, number> = {
  "": 1,
  b: 1,
  k: 2 ** 10,
  m: 2 ** 20,
  g: 2 ** 30,
  t: 2 ** 40,
};

/**
 * What {@linkcode parseSize} reads, written without flags so that the JSON
 * Schema can carry it too.
 */
export const SIZE_PATTERN = /^\s*(\d+(?:\.\d+)?)\s*(?:([kKmMgGtT])(?:[iI]?[bB])?|([bB]))?\s*$/;

/**
 * Parses a size in bytes: a whole number of bytes, or a number with a binary
 * unit as Docker writes them (`512k`, `256m`, `1.5g`, also `256MiB`, `1GB`).
 *
 * @returns the size in bytes, rounded down
 * @throws {TypeError} when `input` is not a size
 *
 * @example
 * ```ts
 * parseSize("256m"); // 268435456
 * ```
 */
export function parseSize(input: string | number): number {
  const bytes = typeof input === "number"
    ? (Number.isSafeInteger(input) && input >= 0 ? input : NaN)
    : sizeOf(input);
  if (Number.isNaN(bytes)) {
    throw new TypeError(
      `Cannot parse size ${JSON.stringify(input)}: expected bytes or a size like "256m"`,
    );
  }
  return bytes;
}

function sizeOf(text: string): number {
  const match = SIZE_PATTERN.exec(text);
  if (match === null) return NaN;
  const unit = (match[2] ?? match[3] ?? "").toLowerCase();
  const bytes = Math.floor(Number(match[1]) * UNITS[unit]!);
  return Number.isSafeInteger(bytes) ? bytes : NaN;
}
