import { resolve } from "node:path";
import { _envLayer } from "./_env_layer.ts";
import { _fileLayer } from "./_file_layer.ts";
import { _flagsLayer } from "./_flags_layer.ts";
import { _deepMerge, _ownerOf, type Layer } from "./_layer.ts";
import { ConfigError, type ConfigIssue } from "./config_error.ts";
import type { ConfigFlags } from "./config_flags.ts";
import { CONFIG_FILE_ENV } from "./config_env_names.ts";
import { configSchema } from "./config_schema.ts";
import { defaultConfig } from "./default_config.ts";
import { readRegistrySecrets, registryIssues } from "./registry_secrets.ts";
import { unknownProfiles } from "./profile_references.ts";
import { unsafeSettings } from "./unsafe_settings.ts";
import type { ConfigPath } from "./config_path.ts";
import type { Config } from "./types.ts";

/** Options of {@linkcode loadConfig}. */
export interface LoadConfigOptions {
  /** YAML file to read; default the `CAPSULE_CONFIG` variable, else no file. */
  file?: string | undefined;
  /** The environment (`CAPSULE_*`, `CAPSULE_CONFIG`, `HOME`); default the process's. */
  env?: Readonly<Record<string, string>> | undefined;
  /** Options from the command line. */
  flags?: ConfigFlags | undefined;
  /**
   * Settings given as an object (capsule used as a library), over the file
   * and under the environment; relative paths in it resolve against `cwd`.
   */
  values?: Record<string, unknown> | undefined;
  /** Directory for relative paths from the environment and the flags; default the process's. */
  cwd?: string | undefined;
}

/**
 * Loads the configuration in layers, each over the one before: built-in
 * defaults, the YAML file, `CAPSULE_*` variables, flags. Mappings merge key by
 * key; lists and scalars replace. The result is validated once, and paths are
 * made absolute (`~` is the home directory; a relative path is resolved
 * against the config file's directory when it comes from the file, else
 * against `cwd`).
 *
 * @throws {ConfigError} listing every problem, each with its place
 *   (`file.yaml:14:3`, `environment CAPSULE_...`, `flag --...`)
 *
 * @example
 * ```ts
 * const config = await loadConfig({ file: "config.yaml", flags: { listen: "127.0.0.1:0" } });
 * ```
 */
export async function loadConfig(options: LoadConfigOptions = {}): Promise<Config> {
  const env = options.env ?? Deno.env.toObject();
  const cwd = options.cwd ?? Deno.cwd();
  const home = env["HOME"] ?? processHome();
  const file = options.file ?? (env[CONFIG_FILE_ENV] || undefined);

  const defaults: Layer = {
    raw: { ...defaultConfig() },
    baseDir: cwd,
    locate: () => ({ where: "built-in defaults", order: 0 }),
  };
  const layers: [Layer, ...Layer[]] = [defaults];
  if (file !== undefined) layers.push(await _fileLayer(file, cwd));
  if (options.values !== undefined) {
    const where = (path: readonly (string | number)[]) => ({
      where: `config object at "${path.join(".")}"`,
      order: 0,
    });
    layers.push({ raw: options.values, baseDir: cwd, locate: where });
  }
  const fromEnv = _envLayer(env, cwd);
  layers.push(fromEnv.layer, _flagsLayer(options.flags ?? {}, cwd));

  const merged = layers.reduce<unknown>((base, layer) => _deepMerge(base, layer.raw), {});
  const resolvePath = (path: ConfigPath, value: string): string | { error: string } => {
    if (value === "~" || value.startsWith("~/")) {
      if (home === undefined || home === "") {
        return { error: `Cannot expand "~" in ${JSON.stringify(value)}: HOME is not set` };
      }
      value = home + value.slice(1);
    }
    return resolve(_ownerOf(layers, path).baseDir, value);
  };
  const result = configSchema.parse(merged, [], { resolvePath });

  const issues: ConfigIssue[] = [...fromEnv.issues];
  const problems = result.ok
    ? [
      ...unknownProfiles(result.value),
      ...unsafeSettings(result.value),
      ...registryIssues(result.value),
      ...await readRegistrySecrets(result.value),
    ].map((u) => ({ ...u, atKey: false }))
    : result.issues;
  if (problems.length > 0) {
    const placed = problems.map((issue) => {
      const layer = _ownerOf(layers, issue.path);
      const { where, order } = layer.locate(issue.path, issue.atKey === true);
      return {
        layer: layers.indexOf(layer),
        order,
        issue: { location: where, path: issue.path, message: issue.message },
      };
    });
    // In reading order: the file top to bottom, then the environment, then the flags.
    placed.sort((a, b) => a.layer - b.layer || a.order - b.order);
    issues.push(...placed.map((p) => p.issue));
  }
  if (issues.length > 0 || !result.ok) throw new ConfigError(issues);
  return result.value;
}

function processHome(): string | undefined {
  try {
    return Deno.env.get("HOME");
  } catch {
    return undefined;
  }
}
