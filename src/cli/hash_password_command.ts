import { _flagsOrHelp, _HELP_FLAG } from "./_common_flags.ts";
import type { Command } from "./command.ts";
import { readPassword } from "./read_password.ts";

/** `capsule hash-password`: reads a password and prints its hash for the config. */
export const hashPasswordCommand: Command = {
  name: "hash-password",
  summary: "Hash a password for users.<name>.passwordHash",
  help: () =>
    `Usage: capsule hash-password

Reads a password and prints its salted scrypt hash, to paste into
users.<name>.passwordHash. On a terminal it asks twice without echo;
otherwise it reads the first line of standard input.

Flags:
  -h, --help  Show this help

Examples:
  capsule hash-password
  printf '%s\\n' "$PASSWORD" | capsule hash-password
`,
  async run(args, context) {
    const values = _flagsOrHelp(args, _HELP_FLAG, context, () => this.help());
    if (values === undefined) return 0;
    const password = await readPassword(context.stdin, context.stderr, { confirm: true });
    if (password === "") {
      context.stderr("capsule: Cannot hash password: the password is empty\n");
      return 1;
    }
    context.stdout(`${await context.hashPassword(password)}\n`);
    return 0;
  },
};
