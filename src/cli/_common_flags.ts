import type { CliContext } from "./cli_deps.ts";
import { type FlagSpec, type FlagValues, parseFlags } from "./parse_flags.ts";
import { UsageError } from "./usage_error.ts";

/** `--config FILE`, shared by the commands that load the configuration. */
export const _CONFIG_FLAG = { config: { type: "string", short: "c" } } as const satisfies Record<
  string,
  FlagSpec
>;

/** `--help`, which every command takes. */
export const _HELP_FLAG = { help: { type: "boolean", short: "h" } } as const satisfies Record<
  string,
  FlagSpec
>;

/** Help lines for {@linkcode _CONFIG_FLAG} and {@linkcode _HELP_FLAG}. */
export const _CONFIG_FLAG_HELP =
  `  -c, --config FILE      YAML config file (default: $CAPSULE_CONFIG, else built-in defaults)`;

/** Refuses arguments that are not flags, for commands that take none. */
export function _noPositionals(positionals: readonly string[]): void {
  if (positionals.length > 0) {
    throw new UsageError(`unexpected argument ${JSON.stringify(positionals[0])}`);
  }
}

/** The file the config is read from, as `loadConfig` will pick it, for messages. */
export function _configFile(
  flag: string | undefined,
  env: Readonly<Record<string, string>>,
): string | undefined {
  return flag ?? (env["CAPSULE_CONFIG"] || undefined);
}

/**
 * Parses a command's flags and refuses positionals. With `--help` it prints
 * `help()` and returns `undefined`: the command then exits 0.
 */
export function _flagsOrHelp<const S extends Record<string, FlagSpec>>(
  args: readonly string[],
  spec: S,
  context: Pick<CliContext, "stdout">,
  help: () => string,
): FlagValues<S> | undefined {
  const { values, positionals } = parseFlags(args, spec);
  if ((values as { help?: boolean }).help) {
    context.stdout(help());
    return undefined;
  }
  _noPositionals(positionals);
  return values;
}
