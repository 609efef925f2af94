import { _HELP_FLAG, _noPositionals } from "./_common_flags.ts";
import type { Command } from "./command.ts";
import { parseFlags } from "./parse_flags.ts";

/** `capsule version`: prints capsule's version and Deno's. */
export const versionCommand: Command = {
  name: "version",
  summary: "Print the version",
  help: () =>
    `Usage: capsule version

Prints capsule's version and the Deno version it runs on. Also "capsule --version".
`,
  run(args, context) {
    const { values, positionals } = parseFlags(args, _HELP_FLAG);
    if (values.help) {
      context.stdout(this.help());
      return Promise.resolve(0);
    }
    _noPositionals(positionals);
    context.stdout(`capsule ${context.version} (Deno ${Deno.version.deno})\n`);
    return Promise.resolve(0);
  },
};
