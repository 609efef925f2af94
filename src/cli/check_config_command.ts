import { type Config, loadConfig, resolveContainer } from "../config/mod.ts";
import { describeDiskLimit } from "../limits/mod.ts";
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
Then says how each container profile's writes are bounded (container.disk):
by the engine's storage quota, or by a check twice a second where the engine has
none (it asks the engine when one answers). Exits with 0 when the
configuration is valid, 1 when not.

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
    const config = await loadConfig({ file, env: context.env, cwd: context.cwd });
    context.stdout(`config OK: ${file ?? "built-in defaults"}\n`);
    context.stdout(await diskReport(config, context.probeDiskQuota));
    return 0;
  },
};

/** The `disk limit:` lines: the global profile's, then each user's that differs. */
async function diskReport(
  config: Config,
  probe: ((config: Config) => Promise<boolean | undefined>) | undefined,
): Promise<string> {
  const quota = probe ? await probe(config) : undefined;
  const mechanism = quota === undefined ? "unknown" : quota ? "quota" : "watch";
  const global = describeDiskLimit(mechanism, resolveContainer(config, undefined));
  let text = `disk limit: ${global}\n`;
  for (const profile of Object.keys(config.profiles)) {
    const own = describeDiskLimit(mechanism, resolveContainer(config, undefined, { profile }));
    if (own !== global) text += `disk limit of profile "${profile}": ${own}\n`;
  }
  for (const user of Object.keys(config.users)) {
    const own = describeDiskLimit(mechanism, resolveContainer(config, user));
    if (own !== global) text += `disk limit of "${user}": ${own}\n`;
  }
  if (quota === undefined && probe) {
    text += "(no engine answered: its quota support is checked at start-up)\n";
  }
  return text;
}
