import { z } from "zod";
import { _outputSide, type _ZodNode } from "./_zod_nodes.ts";
import { type ConfigPath, formatPath } from "./config_path.ts";

// By definition, not by instance: `.describe()` makes a copy that shares it.
const HOST_PATHS = new WeakSet<object>();

/**
 * A path on the host, e.g. a key file or a mount's source: a non-empty string
 * that {@linkcode _resolveHostPaths} makes absolute after validation.
 *
 * Kept out of zod's transforms on purpose: a relative path resolves against
 * the directory of the layer that set it (the file's, or the current one),
 * and a transform does not know the path of the value it is given.
 */
export function hostPath(): z.ZodString {
  const schema = z.string({ error: "a path" }).regex(/\S/);
  HOST_PATHS.add(schema._zod.def);
  return schema;
}

/** Makes a host path absolute (`~` expanded), or says why it cannot. */
export type ResolvePath = (path: ConfigPath, value: string) => string | { error: string };

/**
 * Replaces every string of `value` (the output of `schema`) that a
 * {@linkcode hostPath} validated by what `resolve` makes of it. Host paths
 * are found through objects, records, lists, optional and default wrappers
 * and the output end of pipes, but not inside unions: keep them out of
 * unions, or behind a pipe as the mount schema does.
 *
 * @param path where `value` is in the config
 * @returns the value, changed in place, and a problem per path that cannot be resolved
 */
export function _resolveHostPaths(
  schema: _ZodNode,
  value: unknown,
  path: ConfigPath,
  resolve: ResolvePath,
): { value: unknown; problems: { path: ConfigPath; message: string }[] } {
  const problems: { path: ConfigPath; message: string }[] = [];
  const walk = (node: _ZodNode, holder: Record<string, unknown>, key: string, at: ConfigPath) => {
    const out = _outputSide(node);
    const current = holder[key];
    if (HOST_PATHS.has(out._zod.def)) {
      if (typeof current !== "string") return;
      const resolved = resolve(at, current);
      if (typeof resolved === "string") holder[key] = resolved;
      else problems.push({ path: at, message: `"${formatPath(at)}": ${resolved.error}` });
      return;
    }
    if (typeof current !== "object" || current === null) return;
    const children = current as Record<string, unknown>;
    const def = (out as z.core.$ZodTypes)._zod.def;
    if (def.type === "object") {
      for (const [name, child] of Object.entries(def.shape)) {
        if (Object.hasOwn(children, name)) walk(child, children, name, [...at, name]);
      }
    } else if (def.type === "record") {
      for (const name of Object.keys(children)) walk(def.valueType, children, name, [...at, name]);
    } else if (def.type === "array") {
      for (let index = 0; index < (current as unknown[]).length; index++) {
        walk(def.element, children, String(index), [...at, index]);
      }
    }
  };
  const box: Record<string, unknown> = { value };
  walk(schema, box, "value", path);
  return { value: box["value"], problems };
}
