import type { z } from "zod";
import type { _ZodNode } from "./_zod_nodes.ts";

// By definition, not by instance: `.describe()` makes a copy that shares it.
const SECRETS = new WeakSet<object>();

/**
 * Marks `schema` as a secret's: an error about its value names the option
 * but never quotes what was written, which may be the secret with one typo.
 * Mark the finished schema (after `.regex()` and `.refine()`, which copy it).
 */
export function secret<T extends z.ZodType>(schema: T): T {
  SECRETS.add(schema._zod.def);
  return schema;
}

/** Whether `node` was marked by {@linkcode secret}. */
export function _isSecret(node: _ZodNode): boolean {
  return SECRETS.has(node._zod.def);
}
