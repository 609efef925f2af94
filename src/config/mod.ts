/** Capsule's configuration: types, defaults, layered loading and validation. */
export * from "./types.ts";
export * from "./config_error.ts";
export * from "./default_config.ts";
export * from "./config_flags.ts";
export * from "./load_config.ts";
export * from "./config_env_names.ts";
export * from "./resolve_container.ts";
export * from "./profile_for.ts";
export * from "./profile_references.ts";
export * from "./limits_for.ts";
export * from "./parse_listen.ts";
export * from "./is_loopback_host.ts";
export * from "./parse_size.ts";
export * from "./parse_max_startups.ts";
export * from "./unsafe_settings.ts";
export * from "./config_json_schema.ts";
export * from "./config_answer_schema.ts";
