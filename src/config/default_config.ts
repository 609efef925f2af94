import { Config } from "./config_schema.ts";

/**
 * The built-in configuration, the lowest layer under the file, the
 * environment and the flags: every option's default from the schema. Safe by
 * default: loopback only, no network in containers, modest limits, no users.
 * Paths are as written (`~/.local/state/capsule`); loading resolves them.
 *
 * @returns a fresh object each call, so callers may change it
 */
export function defaultConfig(): Config {
  return Config.parse({});
}
