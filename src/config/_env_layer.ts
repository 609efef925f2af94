import { _didYouMean } from "./_did_you_mean.ts";
import { _setIn, type Layer } from "./_layer.ts";
import type { ConfigIssue } from "./config_error.ts";
import { CONFIG_FILE_ENV, envOptions } from "./config_env_names.ts";

/**
 * The layer set by `CAPSULE_*` variables, and an issue for each such variable
 * that names no option. Relative paths are resolved against `cwd`.
 */
export function _envLayer(
  env: Readonly<Record<string, string>>,
  cwd: string,
): { layer: Layer; issues: ConfigIssue[] } {
  const options = envOptions();
  const byName = new Map(options.map((option) => [option.name, option]));
  const raw: Record<string, unknown> = {};
  const issues: ConfigIssue[] = [];
  for (const [name, text] of Object.entries(env)) {
    if (!name.startsWith("CAPSULE_") || name === CONFIG_FILE_ENV) continue;
    const option = byName.get(name);
    if (option === undefined) {
      const suggestion = _didYouMean(name, [...byName.keys(), CONFIG_FILE_ENV]);
      issues.push({
        location: "environment",
        path: [],
        message: `unknown variable "${name}"${
          suggestion === undefined ? "" : `: did you mean "${suggestion}"?`
        }`,
      });
      continue;
    }
    _setIn(raw, option.path, option.schema.fromText!(text));
  }
  const locate = (path: readonly (string | number)[]) => {
    const index = options.findIndex((o) => o.path.every((segment, i) => path[i] === segment));
    return {
      where: index < 0 ? "environment" : `environment ${options[index]!.name}`,
      order: index,
    };
  };
  return { layer: { raw, baseDir: cwd, locate }, issues };
}
