import { configJsonSchemaText } from "../config/mod.ts";
import { _flagsOrHelp, _HELP_FLAG } from "./_common_flags.ts";
import type { Command } from "./command.ts";

/** `capsule config-schema`: prints the JSON Schema of the config file. */
export const configSchemaCommand: Command = {
  name: "config-schema",
  summary: "Print the JSON Schema of the config file",
  help: () =>
    `Usage: capsule config-schema

Prints the JSON Schema (draft 2020-12) of capsule's YAML config file, for
editors that check and complete a file as it is written. The repository's
config.schema.json is this output; a config file points an editor with the
YAML language server at it with a first line like
  # yaml-language-server: $schema=./config.schema.json
Rules the schema cannot express are checked by "capsule check-config".

Flags:
  -h, --help             Show this help

Example:
  capsule config-schema > config.schema.json
`,
  run(args, context) {
    const values = _flagsOrHelp(args, _HELP_FLAG, context, () => this.help());
    if (values !== undefined) context.stdout(configJsonSchemaText());
    return Promise.resolve(0);
  },
};
