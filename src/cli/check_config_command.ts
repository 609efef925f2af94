import { loadConfig } from "../config/mod.ts";
import {
  _CONFIG_FLAG,
  _CONFIG_FLAG_HELP,
  _configFile,
  _flagsOrHelp,
  _HELP_FLAG,
} from "./_common_flags.ts";
import type { Command } from "./command.ts";

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
    const values = _flagsOrHelp(args, FLAGS, context, () => this.help());
    if (values === undefined) return 0;
    const file = _configFile(values.config, context.env);
    await loadConfig({ file, env: context.env, cwd: context.cwd });
    context.stdout(`config OK: ${file ?? "built-in defaults"}\n`);
    return 0;
  },
};
