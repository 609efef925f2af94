import type { z } from "zod";
import { ContainerConfig } from "./container_schema.ts";
import { overrides } from "./object_schema.ts";
import { profileName } from "./profile_name_schema.ts";
import { type ObjectSchema, schemaOf } from "./schema.ts";
import { object } from "./value_schemas.ts";

/**
 * A config webhook's answer in capsule's own shape: a profile to start from
 * and overrides of the container settings, validated by the same rules as a
 * user's `container` in the YAML file.
 */
export const ConfigAnswer = object({
  profile: profileName()
    .describe("The profile (a key of `profiles`) this connection's settings start from.")
    .exactOptional(),
  container: overrides(ContainerConfig)
    .describe("Overrides of the container settings for this connection, applied last.")
    .exactOptional(),
});
/** A config webhook's answer in capsule's own shape. */
export type ConfigAnswer = z.output<typeof ConfigAnswer>;

/** Capsule's schema of a config webhook's answer. */
export const configAnswerSchema: ObjectSchema<ConfigAnswer> = schemaOf(ConfigAnswer);
