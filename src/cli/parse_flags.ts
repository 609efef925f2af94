import { parseArgs } from "node:util";
import { UsageError } from "./usage_error.ts";

/** How one flag is written and what it holds. */
export interface FlagSpec {
  /** `string` takes a value (`--out FILE`, `--out=FILE`); `boolean` takes none. */
  type: "string" | "boolean";
  /** One-letter alias, without the dash. */
  short?: string;
  /** A string flag that may be repeated; its value is the list in order. */
  multiple?: boolean;
}

/** The values of parsed flags: strings (or lists when `multiple`), booleans, absent when not given. */
export type FlagValues<S extends Record<string, FlagSpec>> = {
  [K in keyof S]?: S[K]["type"] extends "boolean" ? boolean
    : S[K]["multiple"] extends true ? string[]
    : string;
};

/** What {@linkcode parseFlags} returns. */
export interface ParsedFlags<S extends Record<string, FlagSpec>> {
  values: FlagValues<S>;
  /** Arguments that are not flags, in order (everything after `--` included). */
  positionals: string[];
}

/**
 * Parses command-line flags. This is the only module that knows the parser
 * (`node:util` parseArgs), so it can be replaced without touching commands.
 *
 * @throws {UsageError} for an unknown flag, a missing value, or a value given
 *   to a boolean flag
 *
 * @example
 * ```ts
 * const { values } = parseFlags(["--out", "key"], { out: { type: "string" } });
 * ```
 */
export function parseFlags<const S extends Record<string, FlagSpec>>(
  args: readonly string[],
  specs: S,
): ParsedFlags<S> {
  const { tokens } = parseArgs({
    args: [...args],
    options: specs as Record<string, FlagSpec>,
    strict: false,
    allowPositionals: true,
    tokens: true,
  });
  const values: Record<string, string | boolean | string[]> = {};
  const positionals: string[] = [];
  for (const token of tokens) {
    if (token.kind === "positional") positionals.push(token.value);
    if (token.kind !== "option") continue;
    const spec = Object.hasOwn(specs, token.name) ? specs[token.name] : undefined;
    const known = spec !== undefined &&
      (token.rawName.startsWith("--") || token.rawName === `-${spec.short}`);
    if (!known) throw new UsageError(`unknown option ${JSON.stringify(token.rawName)}`);
    if (spec.type === "boolean") {
      if (token.value !== undefined) {
        throw new UsageError(`option "${token.rawName}" does not take a value`);
      }
      values[token.name] = true;
      continue;
    }
    const value = token.value;
    if (value === undefined || (!token.inlineValue && value.startsWith("-") && value !== "-")) {
      throw new UsageError(`option "${token.rawName}" needs a value`);
    }
    if (spec.multiple) {
      const list = values[token.name];
      values[token.name] = Array.isArray(list) ? [...list, value] : [value];
    } else values[token.name] = value;
  }
  return { values: values as FlagValues<S>, positionals };
}
