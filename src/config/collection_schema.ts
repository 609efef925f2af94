import { isPlainObject } from "./object_schema.ts";
import { formatPath, type Issue, mismatch, type Schema } from "./schema.ts";

/**
 * A list of `item`. When `item` can come from the environment, so can the
 * list, as comma-separated text.
 */
export function list<T>(item: Schema<T>): Schema<T[]> {
  const fromText = item.fromText;
  return {
    kind: "list",
    expected: "a list",
    ...(fromText === undefined ? {} : {
      fromText: (text: string) =>
        text.split(",").map((part) => part.trim()).filter((part) => part !== "").map(fromText),
    }),
    parse(input, path, context) {
      if (!Array.isArray(input)) return mismatch(path, "a list", input);
      const issues: Issue[] = [];
      const values: T[] = [];
      input.forEach((element, index) => {
        const result = item.parse(element, [...path, index], context);
        if (result.ok) values.push(result.value);
        else issues.push(...result.issues);
      });
      return issues.length > 0 ? { ok: false, issues } : { ok: true, value: values };
    },
  };
}

/** Rule for the keys of a {@linkcode record}. */
export interface KeyRule {
  /** Pattern every key must match. */
  pattern: RegExp;
  /** What a valid key looks like, after "must be": `a variable name like "LANG"`. */
  expected: string;
}

/** A mapping from free-form keys (checked by `key`) to values of `value`. */
export function record<V>(value: Schema<V>, key?: KeyRule): Schema<Record<string, V>> {
  return {
    kind: "record",
    expected: "a mapping",
    parse(input, path, context) {
      if (!isPlainObject(input)) return mismatch(path, "a mapping", input);
      const issues: Issue[] = [];
      const entries: [string, V][] = [];
      for (const [name, element] of Object.entries(input)) {
        const at = [...path, name];
        if (key !== undefined && !key.pattern.test(name)) {
          issues.push({
            path: at,
            atKey: true,
            message: `"${formatPath(at)}": key must be ${key.expected}: got ${
              JSON.stringify(name)
            }`,
          });
          continue;
        }
        const result = value.parse(element, at, context);
        if (result.ok) entries.push([name, result.value]);
        else issues.push(...result.issues);
      }
      return issues.length > 0
        ? { ok: false, issues }
        : { ok: true, value: Object.fromEntries(entries) };
    },
  };
}
