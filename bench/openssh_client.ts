/** The OpenSSH client command lines the bench runs. */

/** Where and as whom an SSH client logs in, with the bench's key. */
export interface SshLogin {
  port: number;
  user: string;
  /** Private key file (ed25519, no passphrase). */
  identityFile: string;
}

/**
 * Arguments of `ssh` up to and including the destination: the bench key only,
 * no host key checks, no user config, quiet.
 *
 * @param extra more options before the destination (e.g. `-o KexAlgorithms=...`)
 */
export function opensshArgs(login: SshLogin, extra: readonly string[] = []): string[] {
  return [
    "-F",
    "/dev/null",
    "-i",
    login.identityFile,
    "-p",
    String(login.port),
    "-o",
    "StrictHostKeyChecking=no",
    "-o",
    "UserKnownHostsFile=/dev/null",
    "-o",
    "BatchMode=yes",
    "-o",
    "LogLevel=ERROR",
    "-o",
    "IdentitiesOnly=yes",
    "-o",
    "ConnectTimeout=30",
    ...extra,
    `${login.user}@127.0.0.1`,
  ];
}

/** Arguments of `ssh` that run `command` remotely. */
export function opensshCommand(
  login: SshLogin,
  command: string,
  extra: readonly string[] = [],
): string[] {
  return [...opensshArgs(login, extra), "--", command];
}
