import { loadConfig } from "../config/mod.ts";
import {
  _CONFIG_FLAG,
  _CONFIG_FLAG_HELP,
  _configFile,
  _HELP_FLAG,
  _noPositionals,
} from "./_common_flags.ts";
import type { Command } from "./command.ts";
import { parseFlags } from "./parse_flags.ts";

const FLAGS = { ..._CONFIG_FLAG, ..._HELP_FLAG } as const;

/** `capsule check-config`: validates the configuration as `serve` would load it, then exits. */
export const checkConfigCommand: Command = {
  name: "check-config",
  summary: "Validate the configuration and exit",
  help: () =>
    `Usage: capsule check-config [--config FILE]

Loads the configuration as "capsule serve" would (defaults, file, CAPSULE_*
variables) and reports every problem with its place, e.g.
  config.yaml:14:3: "container.memory" must be a size like "256m": got "lots"
Exits with 0 when the configuration is valid, 1 when not.

Flags:
${_CONFIG_FLAG_HELP}
  -h, --help             Show this help

Example:
  capsule check-config --config /etc/capsule/config.yaml
`,
  async run(args, context) {
    const { values, positionals } = parseFlags(args, FLAGS);
    if (values.help) {
      context.stdout(this.help());
      return 0;
    }
    _noPositionals(positionals);
    const file = _configFile(values.config, context.env);
    await loadConfig({ file, env: context.env, cwd: context.cwd });
    context.stdout(`config OK: ${file ?? "built-in defaults"}\n`);
    return 0;
  },
};
