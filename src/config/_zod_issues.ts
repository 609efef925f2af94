import type { z } from "zod";
import { _didYouMean } from "./_did_you_mean.ts";
import { _keysAt, _nodesAt, type _ZodNode } from "./_zod_nodes.ts";
import { _isSecret } from "./secret_schema.ts";
import { type ConfigPath, describeValue, formatPath } from "./config_path.ts";

/** One problem a schema found in its input, in capsule's words. */
export interface Issue {
  /** Where the problem is. */
  path: ConfigPath;
  /** The whole message, naming the option, e.g. `"container.pids" must be ...`. */
  message: string;
  /** The problem is the key at `path` itself (an unknown key), not its value. */
  atKey?: boolean;
}

/**
 * Fallback messages for schemas built without one: what a valid value looks
 * like, to follow "must be". The schemas of `value_schemas.ts` carry their own.
 */
export function _expectedOf(issue: z.core.$ZodRawIssue): string | undefined {
  if (issue.code !== "invalid_type") return undefined;
  const words: Record<string, string> = {
    object: "a mapping",
    record: "a mapping",
    array: "a list",
    string: "a string",
    number: "a number",
    int: "an integer",
    boolean: "true or false",
  };
  return words[issue.expected];
}

/**
 * Turns zod's issues (parsed with `reportInput`) into capsule's: `"<path>"
 * must be <what the schema's message says>: got <the value as written>`, or
 * `missing option`, `unknown option ... did you mean`, `key must be`. Only the
 * first issue at each path is kept, as one value has one thing wrong first.
 *
 * @param root the schema that validated `input`
 * @param base where `input` is in the config
 */
export function _issuesFrom(
  issues: readonly z.core.$ZodIssue[],
  root: _ZodNode,
  input: unknown,
  base: ConfigPath,
): Issue[] {
  const found: Issue[] = [];
  const add = (from: readonly z.core.$ZodIssue[], prefix: readonly PropertyKey[]) => {
    for (const issue of from) {
      const relative = [...prefix, ...issue.path];
      const path = [...base, ...relative.map(segment)];
      const at = formatPath(path);
      switch (issue.code) {
        case "unrecognized_keys": {
          const known = _keysAt(root, relative);
          for (const key of issue.keys) {
            const suggestion = _didYouMean(key, known);
            const hint = suggestion !== undefined
              ? `: did you mean "${suggestion}"?`
              : `: expected one of ${known.map((k) => `"${k}"`).join(", ")}`;
            const keyPath = [...path, key];
            found.push({
              path: keyPath,
              atKey: true,
              message: `unknown option "${formatPath(keyPath)}"${hint}`,
            });
          }
          break;
        }
        case "invalid_key":
          found.push({
            path,
            atKey: true,
            message: `"${at}": key must be ${issue.issues[0]?.message ?? "valid"}: got ${
              JSON.stringify(String(issue.input))
            }`,
          });
          break;
        case "invalid_union": {
          // Zod tries every option; report the one whose type the input has, if just one.
          const typed = issue.errors.filter((branch) =>
            !branch.some((i) => i.code === "invalid_type" && i.path.length === 0)
          );
          if (typed.length === 1) add(typed[0]!, relative);
          else found.push(mismatch(path, issue, input, relative, root));
          break;
        }
        default:
          found.push(
            issue.code === "invalid_type" && issue.input === undefined
              ? { path, message: `missing option "${at}"` }
              : mismatch(path, issue, input, relative, root),
          );
      }
    }
  };
  add(issues, []);
  const seen = new Set<string>();
  return found.filter((issue) => {
    const key = JSON.stringify([issue.path, issue.atKey === true]);
    if (seen.has(key)) return false;
    seen.add(key);
    return true;
  });
}

function segment(key: PropertyKey): string | number {
  return typeof key === "number" ? key : String(key);
}

/**
 * `"<path>" must be <message>: got <value>`, quoting the value as written
 * where it was; a secret's value is never quoted.
 */
function mismatch(
  path: ConfigPath,
  issue: z.core.$ZodIssue,
  input: unknown,
  relative: readonly PropertyKey[],
  root: _ZodNode,
): Issue {
  const written = valueAt(input, relative);
  const got = written.found ? written.value : issue.input;
  const shown = typeof got === "string" && _nodesAt(root, relative).some(_isSecret)
    ? "a value not shown (a secret)"
    : describeValue(got);
  return { path, message: `"${formatPath(path)}" must be ${issue.message}: got ${shown}` };
}

/** The value at `path` in the input; not found when a transform made it (a mount's short form). */
function valueAt(
  input: unknown,
  path: readonly PropertyKey[],
): { found: true; value: unknown } | { found: false } {
  let node = input;
  for (const key of path) {
    if (typeof node !== "object" || node === null || !Object.hasOwn(node, key)) {
      return { found: false };
    }
    node = (node as Record<PropertyKey, unknown>)[key];
  }
  return { found: true, value: node };
}
