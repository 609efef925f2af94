import { z } from "zod";
import { Config } from "./config_schema.ts";

/**
 * The JSON Schema (draft 2020-12) of a config file, made from the zod schema:
 * what a file may contain as written (sizes as `"512m"` or bytes, mounts in
 * the short or the long form), with each option's description and default.
 * Editors use it to check and complete a file (`config.schema.json`).
 *
 * It cannot say everything: rules written as code (a listen address, the
 * `maxStartups` triple, the smallest memory limit, soft at most hard) are
 * left to `capsule check-config`.
 */
export function configJsonSchema(): Record<string, unknown> {
  return z.toJSONSchema(Config, {
    target: "draft-2020-12",
    io: "input",
    override: ({ zodSchema, jsonSchema }) => {
      // Zod leaves out the default of an option whose parsing transforms
      // (sizes, mounts), as the parsed value need not be valid input. Capsule's
      // parsed values are valid input, so the default goes back in.
      const def = (zodSchema as z.core.$ZodTypes)._zod.def;
      if ((def.type === "default" || def.type === "prefault") && !("default" in jsonSchema)) {
        jsonSchema.default = JSON.parse(JSON.stringify(def.defaultValue));
      }
    },
  });
}

/**
 * {@linkcode configJsonSchema} as the text `capsule config-schema` prints and
 * `config.schema.json` holds.
 */
export function configJsonSchemaText(): string {
  return `${JSON.stringify(configJsonSchema(), null, 2)}\n`;
}
