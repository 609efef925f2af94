import { configEnvNames, type ConfigFlags, loadConfig } from "../config/mod.ts";
import {
  _CONFIG_FLAG,
  _CONFIG_FLAG_HELP,
  _configFile,
  _flagsOrHelp,
  _HELP_FLAG,
} from "./_common_flags.ts";
import type { Command } from "./command.ts";

const FLAGS = {
  ..._CONFIG_FLAG,
  ..._HELP_FLAG,
  listen: { type: "string" },
  "log-level": { type: "string" },
  "log-format": { type: "string" },
  "state-dir": { type: "string" },
  "host-key": { type: "string", multiple: true },
} as const;

/** `capsule serve`: loads the configuration and runs the server (the default command). */
export const serveCommand: Command = {
  name: "serve",
  summary: "Run the SSH server (the default command)",
  help: () =>
    `Usage: capsule serve [flags]

Runs the SSH server, giving each session a fresh container. SIGTERM or
SIGINT stops it gracefully (a second one stops it at once, still removing
every container); SIGHUP reloads users and keys from the config. Settings come from, lowest first: built-in defaults, the config
file, CAPSULE_* environment variables, flags.

Flags:
${_CONFIG_FLAG_HELP}
      --listen ADDR      "host:port" or "[::1]:port" to listen on (server.listen)
      --log-level LEVEL  debug, info, warn or error (log.level)
      --log-format FMT   auto, json or text (log.format)
      --state-dir DIR    Directory for generated state such as host keys (server.stateDir)
      --host-key FILE    Host private key file; repeat for several (server.hostKeys)
  -h, --help             Show this help

Environment (CAPSULE_ + option path; lists comma-separated):
${wrap(configEnvNames().join(", "), "  ", 78)}

Examples:
  capsule serve --config /etc/capsule/config.yaml
  CAPSULE_LOG_LEVEL=debug capsule serve -c config.yaml --listen 127.0.0.1:2022
`,
  async run(args, context) {
    const values = _flagsOrHelp(args, FLAGS, context, () => this.help());
    if (values === undefined) return 0;
    const flags: ConfigFlags = {
      listen: values.listen,
      logLevel: values["log-level"],
      logFormat: values["log-format"],
      stateDir: values["state-dir"],
      hostKeys: values["host-key"],
    };
    const load = () =>
      loadConfig({
        file: _configFile(values.config, context.env),
        env: context.env,
        cwd: context.cwd,
        flags,
      });
    return await context.serve(await load(), { reload: load });
  },
};

function wrap(text: string, indent: string, width: number): string {
  const lines: string[] = [];
  let line = "";
  for (const word of text.split(" ")) {
    if (line !== "" && indent.length + line.length + 1 + word.length > width) {
      lines.push(indent + line);
      line = word;
    } else line = line === "" ? word : `${line} ${word}`;
  }
  if (line !== "") lines.push(indent + line);
  return lines.join("\n");
}
