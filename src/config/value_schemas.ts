/**
 * Zod schemas for the kinds of values capsule's options take. Each carries
 * what a valid value looks like (`an integer of 0 or more`) as its error
 * message; {@linkcode schemaOf} turns that into `"<path>" must be <message>:
 * got <value>`.
 *
 * Patterns are written without flags: they also go into the JSON Schema,
 * where flags cannot be expressed.
 *
 * @module
 */
import { z } from "zod";

/** Inclusive bounds of a number. */
export interface Bounds {
  min?: number;
  max?: number;
}

/** Any string, including `""`. */
export function string(): z.ZodString {
  return z.string({ error: "a string" });
}

/** A string with at least one non-blank character; `expected` names it in messages. */
export function nonEmptyString(expected = "a non-empty string"): z.ZodString {
  return z.string({ error: expected }).regex(/\S/);
}

/** A string matching `pattern`; other strings are reported as not being `expected`. */
export function matching(pattern: RegExp, expected: string): z.ZodString {
  return string().regex(pattern, { error: expected });
}

/** A non-empty string starting with `/`, e.g. a path in the container. */
export function absolutePath(example: string): z.ZodString {
  return nonEmptyString().regex(/^\//, { error: `an absolute path like "${example}"` });
}

/** A finite number within bounds. */
export function number(bounds: Bounds = {}): z.ZodNumber {
  const error = `a number${describeBounds(bounds)}`;
  let schema = z.number({ error });
  if (bounds.min !== undefined) schema = schema.min(bounds.min);
  if (bounds.max !== undefined) schema = schema.max(bounds.max);
  return schema;
}

/** A whole number (a safe integer) within bounds. */
export function integer(bounds: Bounds = {}): z.ZodInt {
  const error = `an integer${describeBounds(bounds)}`;
  let schema = z.int({ error });
  if (bounds.min !== undefined) schema = schema.min(bounds.min);
  if (bounds.max !== undefined) schema = schema.max(bounds.max);
  return schema;
}

function describeBounds({ min, max }: Bounds): string {
  if (min !== undefined && max !== undefined) return ` from ${min} to ${max}`;
  if (min !== undefined) return ` of ${min} or more`;
  if (max !== undefined) return ` of ${max} or less`;
  return "";
}

/** `true` or `false` (the environment may also say `1`/`0`, `yes`/`no`). */
export function boolean(): z.ZodBoolean {
  return z.boolean({ error: "true or false" });
}

/** One of a fixed set of strings. */
export function oneOf<const T extends readonly [string, ...string[]]>(
  values: T,
): z.ZodEnum<{ [K in T[number]]: K }> {
  return z.enum(values, { error: `one of ${values.map((v) => `"${v}"`).join(", ")}` });
}

/** A mapping with known keys; any other key is refused with a did-you-mean. */
export function object<const S extends z.core.$ZodLooseShape>(
  shape: S,
): z.ZodObject<z.core.util.Writeable<S>, z.core.$strict> {
  return z.strictObject(shape, { error: "a mapping" });
}

/** A list of `item`. */
export function list<T extends z.core.SomeType>(item: T): z.ZodArray<T> {
  return z.array(item, { error: "a list" });
}

/** Rule for the keys of a {@linkcode record}. */
export interface KeyRule {
  /** Pattern every key must match. */
  pattern: RegExp;
  /** What a valid key looks like, after "must be": `a variable name like "LANG"`. */
  expected: string;
}

/** A mapping from keys that follow `key` to values of `value`. */
export function record<V extends z.core.SomeType>(
  value: V,
  key: KeyRule,
): z.ZodRecord<z.ZodString, V> {
  return z.record(z.string().regex(key.pattern, { error: key.expected }), value, {
    error: "a mapping",
  });
}
