import { parseAuthorizedKeys } from "../auth/public_key.ts";
import { _decodeBase64 } from "../auth/_base64.ts";
import { type Config, loadConfig, resolveContainer, USER_NAME } from "../config/mod.ts";
import { _CONFIG_FLAG, _CONFIG_FLAG_HELP, _configFile, _HELP_FLAG } from "./_common_flags.ts";
import type { CliContext } from "./cli_deps.ts";
import type { Command } from "./command.ts";
import { parseFlags } from "./parse_flags.ts";
import { DEFAULT_SOCKET_DIR } from "./spawn_command.ts";

const FLAGS = {
  ..._CONFIG_FLAG,
  ..._HELP_FLAG,
  "spawn-command": { type: "string" },
} as const;

/** What {@linkcode forcedKeyLines} needs besides the config. */
export interface ForcedKeyOptions {
  /** The program sshd runs as the forced command (default `capsule`). */
  program: string;
  /** Only this key (`%t %k`), when sshd names one. */
  key?: { type: string; base64: string } | undefined;
  /** The keys of the user's `authorizedKeysFiles`, read by the caller. */
  fileKeys?: readonly string[];
}

/**
 * The authorized_keys lines of `user` for sshd's `AuthorizedKeysCommand`:
 * each of the user's keys behind `restrict,pty` and the forced command
 * `capsule spawn --user USER`, with `port-forwarding` and `agent-forwarding`
 * only when the user's container settings allow them. None for a user the
 * config does not know, or who has no socket (`server.userSockets`).
 */
export function forcedKeyLines(config: Config, user: string, options: ForcedKeyOptions): string[] {
  if (!USER_NAME.test(user) || !Object.hasOwn(config.users, user)) return [];
  const sockets = config.server.userSockets;
  if (sockets.dir === "") return [];
  if (sockets.users.length > 0 && !sockets.users.includes(user)) return [];
  const forwarding = resolveContainer(config, user).forwarding;
  const command = [
    quote(options.program),
    "spawn",
    "--user",
    user,
    ...(sockets.dir !== DEFAULT_SOCKET_DIR ? ["--socket-dir", quote(sockets.dir)] : []),
  ].join(" ");
  const restrictions = [
    "restrict",
    "pty",
    ...(forwarding.local || forwarding.remote ? ["port-forwarding"] : []),
    ...(forwarding.agent ? ["agent-forwarding"] : []),
    `command="${command}"`,
  ].join(",");
  const text = [...config.users[user]!.authorizedKeys, ...(options.fileKeys ?? [])].join("\n");
  const lines: string[] = [];
  for (const key of parseAuthorizedKeys(text).keys) {
    const base64 = btoa(String.fromCharCode(...key.data));
    if (options.key && (options.key.type !== key.algo || !sameKey(options.key.base64, key.data))) {
      continue;
    }
    const line = `${restrictions} ${key.algo} ${base64}`;
    if (!lines.includes(line)) lines.push(line);
  }
  return lines;
}

/** Whether sshd's `%k` is the same key (its padding may differ). */
function sameKey(base64: string, data: Uint8Array): boolean {
  const given = _decodeBase64(base64);
  return given !== null && given.length === data.length && given.every((b, i) => b === data[i]);
}

/** A word for sshd's `command="..."`, run by the user's shell: single quotes where needed. */
function quote(word: string): string {
  if (/^[A-Za-z0-9_./:=@%+-]+$/.test(word)) return word;
  if (/["\\]/.test(word)) {
    throw new TypeError(`cannot put ${JSON.stringify(word)} in a forced command`);
  }
  return `'${word.replaceAll("'", `'"'"'`)}'`;
}

/** `capsule auth-keys`: sshd's `AuthorizedKeysCommand`. */
export const authKeysCommand: Command = {
  name: "auth-keys",
  summary: "Print a user's keys for sshd's AuthorizedKeysCommand",
  help: () =>
    `Usage: capsule auth-keys [--config FILE] [--spawn-command PATH] USER [KEYTYPE KEY]

For sshd_config's "AuthorizedKeysCommand /usr/local/bin/capsule auth-keys
--config FILE %u %t %k": prints USER's keys from capsule's config as
authorized_keys lines that force "capsule spawn --user USER", behind
"restrict,pty" (plus "port-forwarding" and "agent-forwarding" where the
user's container settings allow them: under this mode that forwarding is
sshd's, on the host). With KEYTYPE and KEY it prints only that key.

A user capsule does not know gets nothing, so sshd goes on with its own
AuthorizedKeysFile. It writes only key lines to standard output, problems to
standard error, and always exits 0.

Flags:
${_CONFIG_FLAG_HELP}
      --spawn-command PATH  The capsule program sshd runs (default "capsule": found on sshd's PATH)
  -h, --help             Show this help

Example:
  capsule auth-keys --config /etc/capsule/config.yaml alice ssh-ed25519 AAAAC3...
`,
  async run(args, context) {
    try {
      return await authKeys(args, context, () => this.help());
    } catch (error) {
      // sshd reads standard output as keys: nothing else may reach it, and a
      // failure must only mean "no keys from capsule".
      context.stderr(`capsule: auth-keys: ${error instanceof Error ? error.message : error}\n`);
      return 0;
    }
  },
};

async function authKeys(args: readonly string[], context: CliContext, help: () => string) {
  const { values, positionals } = parseFlags(args, FLAGS);
  if (values.help) {
    context.stderr(help());
    return 0;
  }
  const [user, type, base64, ...extra] = positionals;
  if (user === undefined || extra.length > 0 || (type !== undefined && base64 === undefined)) {
    throw new TypeError("expected USER [KEYTYPE KEY]");
  }
  if (!USER_NAME.test(user)) throw new TypeError(`invalid user name ${JSON.stringify(user)}`);
  const config = await loadConfig({
    file: _configFile(values.config, context.env),
    env: context.env,
    cwd: context.cwd,
  });
  if (!Object.hasOwn(config.users, user)) return 0;
  const fileKeys: string[] = [];
  for (const path of config.users[user]!.authorizedKeysFiles) {
    try {
      fileKeys.push(await Deno.readTextFile(path));
    } catch (error) {
      context.stderr(`capsule: auth-keys: cannot read "${path}": ${(error as Error).message}\n`);
    }
  }
  const lines = forcedKeyLines(config, user, {
    program: values["spawn-command"] ?? "capsule",
    key: type !== undefined && base64 !== undefined ? { type, base64 } : undefined,
    fileKeys,
  });
  if (lines.length > 0) context.stdout(lines.join("\n") + "\n");
  return 0;
}
