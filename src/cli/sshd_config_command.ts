import { dirname, resolve } from "node:path";
import { loadConfig } from "../config/mod.ts";
import {
  _CONFIG_FLAG,
  _CONFIG_FLAG_HELP,
  _configFile,
  _flagsOrHelp,
  _HELP_FLAG,
} from "./_common_flags.ts";
import type { Command } from "./command.ts";
import { unixAccount } from "../auth/mod.ts";

const FLAGS = {
  ..._CONFIG_FLAG,
  ..._HELP_FLAG,
  "spawn-command": { type: "string" },
  "keys-user": { type: "string" },
} as const;

/** `capsule sshd-config`: the lines that put capsule behind the operator's own sshd. */
export const sshdConfigCommand: Command = {
  name: "sshd-config",
  summary: "Print the sshd_config lines for running behind your own sshd",
  help: () =>
    `Usage: capsule sshd-config [--config FILE] [--spawn-command PATH] [--keys-user USER]

Prints the lines to add to /etc/ssh/sshd_config so that sshd hands the users
of capsule's config to their containers (AuthorizedKeysCommand and a forced
"capsule spawn"), then checks what sshd will check before it runs the
command: an absolute path, owned by root, neither it nor any directory above
it writable by group or others, and an AuthorizedKeysCommandUser that exists.
Problems are printed as "# PROBLEM:" lines and make the exit status 1.

Flags:
${_CONFIG_FLAG_HELP}
      --spawn-command PATH  The capsule program (default /usr/local/bin/capsule)
      --keys-user USER      AuthorizedKeysCommandUser: a dedicated account that
                            can read the config (default capsule-keys)
  -h, --help             Show this help
`,
  async run(args, context) {
    const values = _flagsOrHelp(args, FLAGS, context, () => this.help());
    if (values === undefined) return 0;
    const file = _configFile(values.config, context.env);
    const config = await loadConfig({ file, env: context.env, cwd: context.cwd });
    const program = values["spawn-command"] ?? "/usr/local/bin/capsule";
    const keysUser = values["keys-user"] ?? "capsule-keys";
    const configFlag = file !== undefined ? ` --config ${resolve(context.cwd, file)}` : "";
    const spawnFlag = ` --spawn-command ${program}`;
    const dir = config.server.userSockets.dir;
    const out = [
      "# capsule behind this sshd (capsule sshd-config): users of capsule's config get",
      "# their container; everyone else logs in to this host as before.",
      `AuthorizedKeysCommand ${program} auth-keys${configFlag}${spawnFlag} %u %t %k`,
      `AuthorizedKeysCommandUser ${keysUser}`,
      "# Forwarding a key allows (port-forwarding, agent-forwarding) is sshd's: on this",
      "# host, not in the container.",
      "",
      "# What sshd checks before running the command:",
    ];
    const problems = [
      ...(await programProblems(program)),
      ...((await unixAccount(keysUser).catch(() => undefined)) !== undefined ? [] : [
        `AuthorizedKeysCommandUser "${keysUser}" does not exist (useradd --system ${keysUser})`,
      ]),
      ...(dir === ""
        ? ["server.userSockets.dir is not set: the daemon opens no sockets for capsule spawn"]
        : []),
    ];
    out.push(
      `#   ${program}: absolute, owned by root, it and its directories not group/other-writable`,
      `#   ${keysUser} exists and can read the config${file ? ` (${file})` : ""}`,
      `#   the daemon serves ${dir || "(no directory)"}/USER/capsule.sock`,
      ...problems.map((p) => `# PROBLEM: ${p}`),
      problems.length === 0 ? "# All checks passed." : "",
    );
    context.stdout(
      out.filter((line, i, all) => line !== "" || i < all.length - 1).join("\n") + "\n",
    );
    return problems.length === 0 ? 0 : 1;
  },
};

/** What sshd would refuse about the command's path (see its `safe_path()`). */
async function programProblems(program: string): Promise<string[]> {
  if (!program.startsWith("/")) return [`"${program}" is not an absolute path`];
  const problems: string[] = [];
  let path = program;
  for (;;) {
    try {
      const info = await Deno.stat(path);
      if (info.uid !== 0) problems.push(`"${path}" is not owned by root`);
      if (((info.mode ?? 0) & 0o022) !== 0) {
        problems.push(`"${path}" is writable by group or others`);
      }
    } catch {
      problems.push(`"${path}" does not exist`);
    }
    if (path === "/") break;
    path = dirname(path);
  }
  return problems;
}
