import { _didYouMean } from "./_did_you_mean.ts";
import { type ConfigPath, formatPath, type Issue, mismatch, type Schema } from "./schema.ts";

/** One schema per key of `T`. */
export type ObjectShape<T> = { [K in keyof T]-?: Schema<Exclude<T[K], undefined>> };

/** A schema for a mapping with known keys, which keeps its shape for introspection. */
export interface ObjectSchema<T> extends Schema<T> {
  readonly kind: "object";
  /** The schema of each known key. */
  readonly shape: Readonly<Record<string, Schema<unknown>>>;
}

/** `true` for a mapping parsed from YAML or built in code (not a list, not `null`). */
export function isPlainObject(input: unknown): input is Record<string, unknown> {
  return typeof input === "object" && input !== null && !Array.isArray(input);
}

/**
 * A mapping with known keys. A key is required unless its schema is
 * `optional()` or `withDefault()`; an unknown key is an issue that suggests
 * the closest known key.
 */
export function object<T>(shape: ObjectShape<T>): ObjectSchema<T> {
  const schemas = shape as unknown as Record<string, Schema<unknown>>;
  const known = Object.keys(schemas);
  return {
    kind: "object",
    expected: "a mapping",
    shape: schemas,
    parse(input, path, context) {
      if (!isPlainObject(input)) return mismatch(path, "a mapping", input);
      const issues: Issue[] = [];
      const entries: [string, unknown][] = [];
      for (const key of known) {
        const schema = schemas[key]!;
        if (!Object.hasOwn(input, key)) {
          if (typeof schema.whenAbsent === "function") entries.push([key, schema.whenAbsent()]);
          else if (schema.whenAbsent !== "omit") {
            issues.push({
              path: [...path, key],
              message: `missing option "${formatPath([...path, key])}"`,
            });
          }
          continue;
        }
        const result = schema.parse(input[key], [...path, key], context);
        if (result.ok) entries.push([key, result.value]);
        else issues.push(...result.issues);
      }
      for (const key of Object.keys(input)) {
        if (!known.includes(key)) issues.push(unknownKey([...path, key], key, known));
      }
      // fromEntries defines own properties, so a "__proto__" key stays data.
      return issues.length > 0
        ? { ok: false, issues }
        : { ok: true, value: Object.fromEntries(entries) as T };
    },
  };
}

/** The same object schema with every key optional and no defaults (for overrides). */
export function partial<T>(schema: ObjectSchema<T>): ObjectSchema<Partial<T>> {
  const shape: Record<string, Schema<unknown>> = {};
  for (const [key, field] of Object.entries(schema.shape)) {
    shape[key] = { ...field, whenAbsent: "omit" };
  }
  return object<Partial<T>>(shape as unknown as ObjectShape<Partial<T>>);
}

function unknownKey(path: ConfigPath, key: string, known: readonly string[]): Issue {
  const suggestion = _didYouMean(key, known);
  const hint = suggestion !== undefined
    ? `: did you mean "${suggestion}"?`
    : `: expected one of ${known.map((k) => `"${k}"`).join(", ")}`;
  return { path, atKey: true, message: `unknown option "${formatPath(path)}"${hint}` };
}
