/**
 * Capsule's view of a zod schema: it validates untrusted input (parsed YAML,
 * environment text) into a typed value, or into issues in capsule's words
 * that name the option's path; it makes host paths absolute; and it tells
 * the environment layer and the docs how an option nests and whether text can
 * set it.
 *
 * @module
 */
import type { z } from "zod";
import { _expectedOf, _issuesFrom, type Issue } from "./_zod_issues.ts";
import { _fromText, _inputSide, type _Kind, _kindOf } from "./_zod_nodes.ts";
import type { ConfigPath } from "./config_path.ts";
import { _resolveHostPaths, type ResolvePath } from "./host_path_schema.ts";

export { type ConfigPath, describeValue, formatPath } from "./config_path.ts";
export type { Issue } from "./_zod_issues.ts";

/** What {@linkcode Schema.parse} returns. */
export type ParseResult<T> = { ok: true; value: T } | { ok: false; issues: Issue[] };

/** What a schema needs from its caller besides the input. */
export interface ParseContext {
  /**
   * Turns a host path as written into an absolute path (`~` expanded, relative
   * paths resolved against the directory of the layer that set it).
   *
   * @returns the absolute path, or `{ error }` saying why there is none
   */
  resolvePath: ResolvePath;
}

/** A validator for one option or group of options. */
export interface Schema<T> {
  /** `object` and `record` nest options; `list` and `leaf` are values. */
  readonly kind: _Kind;
  /** The zod schema that does the work. */
  readonly zod: z.ZodType<T>;
  /** Validates `input`, found at `path`. */
  parse(input: unknown, path: ConfigPath, context: ParseContext): ParseResult<T>;
  /** Turns the text of an environment variable into input; absent when the option has none. */
  readonly fromText?: (text: string) => unknown;
}

/** A schema for a mapping with known keys, which lists them for introspection. */
export interface ObjectSchema<T> extends Schema<T> {
  readonly kind: "object";
  /** The schema of each known key. */
  readonly shape: Readonly<Record<string, Schema<unknown>>>;
}

/**
 * Capsule's view of `zod`: an {@linkcode ObjectSchema} for a mapping with
 * known keys (also when optional or defaulted), else a {@linkcode Schema}.
 */
export function schemaOf<S extends z.ZodObject>(zod: S): ObjectSchema<z.output<S>>;
export function schemaOf<T>(zod: z.ZodType<T>): Schema<T>;
export function schemaOf<T>(zod: z.ZodType<T>): Schema<T> {
  const kind = _kindOf(zod);
  const fromText = _fromText(zod);
  const schema: Schema<T> = {
    kind,
    zod,
    ...(fromText === undefined ? {} : { fromText }),
    parse(input, path, context) {
      const result = zod.safeParse(input, { reportInput: true, error: _expectedOf });
      if (!result.success) {
        return { ok: false, issues: _issuesFrom(result.error.issues, zod, input, path) };
      }
      const { value, problems } = _resolveHostPaths(zod, result.data, path, context.resolvePath);
      return problems.length > 0
        ? { ok: false, issues: problems }
        : { ok: true, value: value as T };
    },
  };
  if (kind !== "object") return schema;
  const object = _inputSide(zod) as z.ZodObject;
  let shape: Record<string, Schema<unknown>> | undefined;
  return {
    ...schema,
    kind,
    get shape() {
      shape ??= Object.fromEntries(
        Object.entries(object.shape).map(([key, field]) => [key, schemaOf(field as z.ZodType)]),
      );
      return shape;
    },
  } as ObjectSchema<T>;
}
