/**
 * A small validator for capsule's configuration: each schema turns untrusted
 * input (parsed YAML, environment text) into a typed value or a list of issues
 * that name the option's path.
 *
 * @module
 */

/** Keys and list indexes from the root of the config to a value. */
export type ConfigPath = readonly (string | number)[];

/** One problem a schema found in its input. */
export interface Issue {
  /** Where the problem is. */
  path: ConfigPath;
  /** The whole message, naming the option, e.g. `"container.pids" must be ...`. */
  message: string;
  /** The problem is the key at `path` itself (an unknown key), not its value. */
  atKey?: boolean;
}

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
  resolvePath(path: ConfigPath, value: string): string | { error: string };
}

/** A validator for one kind of value. */
export interface Schema<T> {
  /** `object` and `record` nest options; `list` and `leaf` are values. */
  readonly kind: "leaf" | "list" | "record" | "object";
  /** What a valid value looks like, after "must be": `a size like "256m"`. */
  readonly expected: string;
  /** Validates `input`, found at `path`. */
  parse(input: unknown, path: ConfigPath, context: ParseContext): ParseResult<T>;
  /** Turns the text of an environment variable into input; absent when the option has none. */
  readonly fromText?: (text: string) => unknown;
  /** When the key is missing from its object: absent = required, `"omit"`, or a default. */
  readonly whenAbsent?: "omit" | (() => T);
}

/** `container.mounts[0].source` for `["container", "mounts", 0, "source"]`. */
export function formatPath(path: ConfigPath): string {
  let text = "";
  for (const segment of path) {
    text += typeof segment === "number" ? `[${segment}]` : text === "" ? segment : `.${segment}`;
  }
  return text === "" ? "config" : text;
}

/** A short description of any input for messages: `"lots"`, `12`, `a list`. */
export function describeValue(input: unknown): string {
  if (Array.isArray(input)) return "a list";
  if (input === null || input === undefined) return "nothing";
  if (typeof input === "object") return "a mapping";
  if (typeof input === "string") {
    return JSON.stringify(input.length > 60 ? `${input.slice(0, 57)}...` : input);
  }
  return String(input);
}

/** A failed result with one issue: `"<path>" must be <expected>: got <input>`. */
export function mismatch<T>(path: ConfigPath, expected: string, input: unknown): ParseResult<T> {
  return {
    ok: false,
    issues: [{
      path,
      message: `"${formatPath(path)}" must be ${expected}: got ${describeValue(input)}`,
    }],
  };
}

function leaf<T>(
  expected: string,
  check: (input: unknown) => input is T,
  fromText: (text: string) => unknown,
): Schema<T> {
  return {
    kind: "leaf",
    expected,
    fromText,
    parse: (input, path) =>
      check(input) ? { ok: true, value: input } : mismatch(path, expected, input),
  };
}

const identity = (text: string): unknown => text;

/** Environment text as a number when it looks like one, else as is (so the message quotes it). */
function numberFromText(text: string): unknown {
  return /^\s*-?(\d+(\.\d*)?|\.\d+)\s*$/.test(text) ? Number(text) : text;
}

/** Any string, including `""`. */
export function string(): Schema<string> {
  return leaf("a string", (input): input is string => typeof input === "string", identity);
}

/** A string with at least one non-blank character. */
export function nonEmptyString(): Schema<string> {
  return leaf(
    "a non-empty string",
    (input): input is string => typeof input === "string" && input.trim() !== "",
    identity,
  );
}

/** A finite number within bounds. */
export function number(bounds: { min?: number; max?: number } = {}): Schema<number> {
  return leaf(
    `a number${describeBounds(bounds)}`,
    (input): input is number => typeof input === "number" && inBounds(input, bounds),
    numberFromText,
  );
}

/** A whole number within bounds. */
export function integer(bounds: { min?: number; max?: number } = {}): Schema<number> {
  return leaf(
    `an integer${describeBounds(bounds)}`,
    (input): input is number => Number.isSafeInteger(input) && inBounds(input as number, bounds),
    numberFromText,
  );
}

function inBounds(value: number, { min, max }: { min?: number; max?: number }): boolean {
  return Number.isFinite(value) && (min === undefined || value >= min) &&
    (max === undefined || value <= max);
}

function describeBounds({ min, max }: { min?: number; max?: number }): string {
  if (min !== undefined && max !== undefined) return ` from ${min} to ${max}`;
  if (min !== undefined) return ` of ${min} or more`;
  if (max !== undefined) return ` of ${max} or less`;
  return "";
}

/** `true` or `false`; the environment may also say `1`/`0`, `yes`/`no`. */
export function boolean(): Schema<boolean> {
  const words: Record<string, boolean> = {
    true: true,
    false: false,
    1: true,
    0: false,
    yes: true,
    no: false,
  };
  return leaf(
    "true or false",
    (input): input is boolean => typeof input === "boolean",
    (text) => words[text.trim().toLowerCase()] ?? text,
  );
}

/** One of a fixed set of strings. */
export function oneOf<const T extends string>(values: readonly T[]): Schema<T> {
  return leaf(
    `one of ${values.map((v) => `"${v}"`).join(", ")}`,
    (input): input is T =>
      typeof input === "string" && (values as readonly string[]).includes(input),
    identity,
  );
}

/**
 * A schema with an extra rule: a valid value of `schema` that fails `test` is
 * reported as not being `expected`.
 */
export function refine<T>(
  schema: Schema<T>,
  expected: string,
  test: (value: T) => boolean,
): Schema<T> {
  return {
    ...schema,
    expected,
    parse(input, path, context) {
      const result = schema.parse(input, path, context);
      if (!result.ok) return result;
      return test(result.value) ? result : mismatch(path, expected, input);
    },
  };
}

/** A host path: a non-empty string made absolute by {@linkcode ParseContext.resolvePath}. */
export function hostPath(): Schema<string> {
  const text = nonEmptyString();
  return {
    ...text,
    expected: "a path",
    parse(input, path, context) {
      const result = text.parse(input, path, context);
      if (!result.ok) return mismatch(path, "a path", input);
      const resolved = context.resolvePath(path, result.value);
      if (typeof resolved === "string") return { ok: true, value: resolved };
      return { ok: false, issues: [{ path, message: `"${formatPath(path)}": ${resolved.error}` }] };
    },
  };
}

/** The same schema, but a missing key is left out of the object. */
export function optional<T>(schema: Schema<T>): Schema<T> {
  return { ...schema, whenAbsent: "omit" };
}

/** The same schema, but a missing key gets the value `make()` returns. */
export function withDefault<T>(schema: Schema<T>, make: () => T): Schema<T> {
  return { ...schema, whenAbsent: make };
}
