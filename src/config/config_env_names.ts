import { configSchema } from "./config_schema.ts";
import type { ObjectSchema } from "./object_schema.ts";
import type { Schema } from "./schema.ts";

/** An option that an environment variable can set. */
export interface EnvOption {
  /** `CAPSULE_CONTAINER_MEMORY` */
  name: string;
  /** `["container", "memory"]` */
  path: string[];
  /** The option's schema; its `fromText` turns the variable's text into input. */
  schema: Schema<unknown>;
}

/** The variable naming the config file; not an option itself. */
export const CONFIG_FILE_ENV = "CAPSULE_CONFIG";

/**
 * Every option an environment variable can set, in schema order: each leaf
 * outside `users` whose value can be written as text, named `CAPSULE_` plus its
 * path in SCREAMING_SNAKE_CASE (`server.hostKeys` → `CAPSULE_SERVER_HOST_KEYS`;
 * lists are comma-separated). Mappings such as `container.env` and lists of
 * mounts have no variable.
 */
export function envOptions(): EnvOption[] {
  const options: EnvOption[] = [];
  const walk = (schema: ObjectSchema<unknown>, path: string[]) => {
    for (const [key, field] of Object.entries(schema.shape)) {
      if (path.length === 0 && key === "users") continue;
      const at = [...path, key];
      if (field.kind === "object") walk(field as ObjectSchema<unknown>, at);
      else if (field.fromText !== undefined) {
        options.push({
          name: ["CAPSULE", ...at.map(screamingSnake)].join("_"),
          path: at,
          schema: field,
        });
      }
    }
  };
  walk(configSchema as ObjectSchema<unknown>, []);
  return options;
}

/**
 * The names of the `CAPSULE_*` variables that set options (see
 * {@linkcode envOptions}), for help texts and docs.
 *
 * @example
 * ```ts
 * configEnvNames().includes("CAPSULE_SERVER_LISTEN"); // true
 * ```
 */
export function configEnvNames(): string[] {
  return envOptions().map((option) => option.name);
}

function screamingSnake(key: string): string {
  // An acronym ends where its last capital starts a word: "trustedUserCAKeys" → TRUSTED_USER_CA_KEYS.
  return key.replace(/([a-z0-9])([A-Z])/g, "$1_$2").replace(/([A-Z])([A-Z][a-z])/g, "$1_$2")
    .toUpperCase();
}
