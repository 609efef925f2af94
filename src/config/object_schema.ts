import { z } from "zod";
import { type ObjectSchema, schemaOf } from "./schema.ts";

export type { ObjectSchema } from "./schema.ts";

/** `true` for a mapping parsed from YAML or built in code (not a list, not `null`). */
export function isPlainObject(input: unknown): input is Record<string, unknown> {
  return typeof input === "object" && input !== null && !Array.isArray(input);
}

type WithoutDefault<T> = T extends z.ZodDefault<infer Inner> ? Inner
  : T extends z.ZodPrefault<infer Inner> ? Inner
  : T;

/** The shape of {@linkcode overrides}: every key optional, without its default. */
export type OverridesShape<S extends z.core.$ZodShape> = {
  -readonly [K in keyof S]: z.ZodExactOptional<WithoutDefault<S[K]>>;
};

/**
 * The same mapping with every key optional and no defaults, for settings that
 * override others (a user's `container`): a key left out stays out. Only the
 * defaults of the keys themselves go; a nested mapping keeps its rules.
 */
export function overrides<S extends z.core.$ZodShape>(
  schema: z.ZodObject<S>,
): z.ZodObject<OverridesShape<S>, z.core.$strict> {
  const shape: Record<string, z.ZodType> = {};
  for (const [key, field] of Object.entries(schema.shape)) {
    const def = (field as z.core.$ZodTypes)._zod.def;
    const bare = def.type === "default" || def.type === "prefault" ? def.innerType : field;
    shape[key] = (bare as z.ZodType).exactOptional();
  }
  return z.strictObject(shape, { error: "a mapping" }) as unknown as z.ZodObject<
    OverridesShape<S>,
    z.core.$strict
  >;
}

/** The same object schema with every key optional and no defaults (for overrides). */
export function partial<T>(schema: ObjectSchema<T>): ObjectSchema<Partial<T>> {
  return schemaOf(overrides(schema.zod as unknown as z.ZodObject)) as unknown as ObjectSchema<
    Partial<T>
  >;
}
