import { configEnvNames, type ConfigFlags, loadConfig } from "../config/mod.ts";
import {
  _CONFIG_FLAG,
  _CONFIG_FLAG_HELP,
  _configFile,
  _flagsOrHelp,
  _HELP_FLAG,
} from "./_common_flags.ts";
import type { StdioClient } from "./cli_deps.ts";
import type { Command } from "./command.ts";

const FLAGS = {
  ..._CONFIG_FLAG,
  ..._HELP_FLAG,
  listen: { type: "string" },
  "log-level": { type: "string" },
  "log-format": { type: "string" },
  "state-dir": { type: "string" },
  "host-key": { type: "string", multiple: true },
  stdio: { type: "boolean" },
} as const;

/** `capsule serve`: loads the configuration and runs the server (the default command). */
export const serveCommand: Command = {
  name: "serve",
  summary: "Run the SSH server (the default command)",
  help: () =>
    `Usage: capsule serve [flags]

Runs the SSH server, giving each session a fresh container. SIGTERM or
SIGINT stops it gracefully (a second one stops it at once, still removing
every container); SIGHUP reloads users and keys from the config. Settings
come from, lowest first: built-in defaults, the config file, CAPSULE_*
environment variables, flags.

With --stdio it serves exactly one SSH connection on standard input and
output instead of listening (inetd, systemd socket activation with
Accept=yes, OpenSSH's ProxyCommand), logs only to standard error, and takes
the client's address from REMOTE_ADDR and REMOTE_PORT when they are set.
Processes with the same server.instance and server.stateDir share users'
persistent containers and never sweep each other's live containers.

Flags:
${_CONFIG_FLAG_HELP}
      --listen ADDR      "host:port" or "[::1]:port" to listen on (server.listen)
      --log-level LEVEL  debug, info, warn or error (log.level)
      --log-format FMT   auto, json or text (log.format)
      --state-dir DIR    Directory for generated state such as host keys (server.stateDir)
      --host-key FILE    Host private key file; repeat for several (server.hostKeys)
      --stdio            Serve one connection on stdin/stdout instead of listening
  -h, --help             Show this help

Environment (CAPSULE_ + option path; lists comma-separated):
${wrap(configEnvNames().join(", "), "  ", 78)}

Examples:
  capsule serve --config /etc/capsule/config.yaml
  CAPSULE_LOG_LEVEL=debug capsule serve -c config.yaml --listen 127.0.0.1:2022
  ssh -o ProxyCommand='capsule serve --stdio -c config.yaml' alice@capsule
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
    const config = await load();
    if (!values.stdio) return await context.serve(config, { reload: load });
    return await context.serve(config, { reload: load, stdio: stdioClient(context.env) });
  },
};

/** The client's address as an inetd-style launcher passes it (`REMOTE_ADDR`, `REMOTE_PORT`). */
function stdioClient(env: Readonly<Record<string, string>>): StdioClient {
  const address = env["REMOTE_ADDR"];
  const port = Number(env["REMOTE_PORT"]);
  return {
    ...(address ? { remoteAddress: address } : {}),
    ...(Number.isInteger(port) && port > 0 && port < 65536 ? { remotePort: port } : {}),
  };
}

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
