import { ConfigError } from "../config/mod.ts";
import { authKeysCommand } from "./auth_keys_command.ts";
import { checkConfigCommand } from "./check_config_command.ts";
import { cliContext, type CliDeps } from "./cli_deps.ts";
import type { Command } from "./command.ts";
import { configSchemaCommand } from "./config_schema_command.ts";
import { hashPasswordCommand } from "./hash_password_command.ts";
import { keygenCommand } from "./keygen_command.ts";
import { InterruptedError } from "./read_password.ts";
import { serveCommand } from "./serve_command.ts";
import { spawnCommand } from "./spawn_command.ts";
import { sshdConfigCommand } from "./sshd_config_command.ts";
import { totpSecretCommand } from "./totp_secret_command.ts";
import { UsageError } from "./usage_error.ts";
import { versionCommand } from "./version_command.ts";

const COMMANDS: readonly Command[] = [
  serveCommand,
  keygenCommand,
  hashPasswordCommand,
  totpSecretCommand,
  checkConfigCommand,
  configSchemaCommand,
  authKeysCommand,
  spawnCommand,
  sshdConfigCommand,
  versionCommand,
];

function topHelp(): string {
  const rows = [...COMMANDS.map((c) => [c.name, c.summary]), [
    "help [COMMAND]",
    "Show help for a command",
  ]];
  const width = Math.max(...rows.map(([name]) => name!.length));
  return `capsule: an SSH server that gives every session a fresh container

Usage: capsule [COMMAND] [flags]

Commands:
${rows.map(([name, summary]) => `  ${name!.padEnd(width)}  ${summary}`).join("\n")}

Without a command, or with flags only, capsule runs "serve".
Run "capsule COMMAND --help" for a command's flags and environment variables.

Examples:
  capsule serve --config config.yaml
  capsule keygen --out /etc/capsule/ssh_host_ed25519_key
  capsule check-config --config config.yaml
  capsule config-schema > config.schema.json
`;
}

/**
 * Runs the `capsule` command line.
 *
 * @param argv the arguments after the program name
 * @param deps the server and key functions, and optionally the streams,
 *   environment and directory to use instead of the process's
 * @returns the exit code: 0 success, 1 failure (bad config, runtime error),
 *   2 usage error, 130 interrupted
 *
 * @example
 * ```ts
 * Deno.exit(await runCli(Deno.args, { serve, generateHostKey, hashPassword, version: "0.1.0" }));
 * ```
 */
export async function runCli(argv: readonly string[], deps: CliDeps): Promise<number> {
  const context = cliContext(deps);
  const [first, ...rest] = argv;
  let command: Command | undefined;
  let hint = "capsule --help";
  try {
    if (first === "help" || first === "--help" || first === "-h") {
      return showHelp(first === "help" ? rest : [], context.stdout);
    }
    if (first === "--version" || first === "-V") return await versionCommand.run(rest, context);
    if (first === undefined || first.startsWith("-")) return await serveCommand.run(argv, context);
    command = COMMANDS.find((c) => c.name === first);
    if (command === undefined) throw new UsageError(`unknown command ${JSON.stringify(first)}`);
    hint = `capsule ${command.name} --help`;
    return await command.run(rest, context);
  } catch (error) {
    if (error instanceof UsageError) {
      context.stderr(`capsule: ${error.message}\nTry "${hint}"\n`);
      return 2;
    }
    if (error instanceof ConfigError) {
      context.stderr(`${error.message}\n`);
      return 1;
    }
    if (error instanceof InterruptedError) {
      context.stderr("capsule: interrupted\n");
      return 130;
    }
    context.stderr(`capsule: ${error instanceof Error ? error.message : String(error)}\n`);
    return 1;
  }
}

function showHelp(args: readonly string[], stdout: (text: string) => void): number {
  const [name, ...extra] = args;
  if (extra.length > 0) throw new UsageError(`unexpected argument ${JSON.stringify(extra[0])}`);
  if (name === undefined) {
    stdout(topHelp());
    return 0;
  }
  const command = COMMANDS.find((c) => c.name === name);
  if (command === undefined) throw new UsageError(`unknown command ${JSON.stringify(name)}`);
  stdout(command.help());
  return 0;
}
