/** OpenSSH's MaxStartups triple. */
export interface MaxStartups {
  /** Unauthenticated connections before random early drop begins. */
  start: number;
  /** Drop probability in percent at `start`. */
  rate: number;
  /** Unauthenticated connections at which every new one is dropped. */
  full: number;
}

/**
 * Parses `start:rate:full` (or a single number, meaning no random drop below
 * it) as OpenSSH's `MaxStartups`.
 *
 * @returns the triple, or `undefined` when the text is not one
 */
export function parseMaxStartups(text: string): MaxStartups | undefined {
  const parts = text.split(":");
  if (!parts.every((p) => /^\d{1,6}$/.test(p))) return undefined;
  const numbers = parts.map(Number);
  if (numbers.length === 1) return { start: numbers[0]!, rate: 100, full: numbers[0]! };
  if (numbers.length !== 3) return undefined;
  const [start, rate, full] = numbers as [number, number, number];
  if (start < 1 || rate > 100 || full < start) return undefined;
  return { start, rate, full };
}
