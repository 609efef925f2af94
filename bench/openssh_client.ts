/** The OpenSSH client command lines the bench runs. */
import { sshArgs } from "../tests/helpers/ssh_client.ts";

/** Where and as whom an SSH client logs in, with the bench's key. */
export interface SshLogin {
  port: number;
  user: string;
  /** Private key file (ed25519, no passphrase). */
  identityFile: string;
}

/**
 * Arguments of `ssh` up to and including the destination: the tests' client
 * options (the bench key only, no host key checks, no user config, quiet).
 *
 * @param extra more options before the destination (e.g. `-o KexAlgorithms=...`)
 */
export function opensshArgs(login: SshLogin, extra: readonly string[] = []): string[] {
  return [...sshArgs(login), ...extra, `${login.user}@127.0.0.1`];
}

/** Arguments of `ssh` that run `command` remotely. */
export function opensshCommand(
  login: SshLogin,
  command: string,
  extra: readonly string[] = [],
): string[] {
  return [...opensshArgs(login, extra), "--", command];
}
