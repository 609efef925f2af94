import { newTotpSecret, otpauthUri } from "../auth/mod.ts";
import { _HELP_FLAG } from "./_common_flags.ts";
import type { Command } from "./command.ts";
import { parseFlags } from "./parse_flags.ts";
import { UsageError } from "./usage_error.ts";

const FLAGS = { ..._HELP_FLAG, issuer: { type: "string", short: "i" } } as const;

/** The user names the config accepts (`users.<name>`). */
const USER_NAME = /^[A-Za-z_][A-Za-z0-9_.-]{0,31}$/;

/** `capsule totp-secret USER`: makes a TOTP secret and the URI authenticator apps import. */
export const totpSecretCommand: Command = {
  name: "totp-secret",
  summary: "Make a TOTP secret for users.<name>.totpSecret",
  help: () =>
    `Usage: capsule totp-secret [--issuer NAME] USER

Makes a new random TOTP secret (160 bits, base32) for USER and prints two
lines: the secret, to put in users.USER.totpSecret (or in the file that
users.USER.totpSecretFile names), and the otpauth:// URI that authenticator
apps import (paste it, or show it as a QR code: qrencode -t ansiutf8 URI).
Codes are RFC 6238's: SHA-1, 30 seconds, 6 digits.

Flags:
  -i, --issuer NAME  The name apps show above the code (default: capsule)
  -h, --help         Show this help

Examples:
  capsule totp-secret alice
  capsule totp-secret --issuer "ssh.example.com" alice
`,
  run(args, context) {
    const { values, positionals } = parseFlags(args, FLAGS);
    if (values.help) {
      context.stdout(this.help());
      return Promise.resolve(0);
    }
    const [user, extra] = positionals;
    if (user === undefined) throw new UsageError("missing argument USER");
    if (extra !== undefined) throw new UsageError(`unexpected argument ${JSON.stringify(extra)}`);
    if (!USER_NAME.test(user)) {
      throw new UsageError(
        `USER must be a user name (a letter or "_", then letters, digits, "_", "." or "-"; at most 32): got ${
          JSON.stringify(user)
        }`,
      );
    }
    const issuer = values.issuer ?? "capsule";
    if (issuer.trim() === "" || issuer.includes(":")) {
      throw new UsageError(`--issuer must be a name without ":": got ${JSON.stringify(issuer)}`);
    }
    const secret = newTotpSecret();
    context.stdout(`${secret}\n${otpauthUri(secret, user, issuer)}\n`);
    return Promise.resolve(0);
  },
};
