/** What a forced command was asked for, from `SSH_ORIGINAL_COMMAND`. */
export type OriginalRequest =
  | { kind: "shell" }
  | { kind: "exec"; command: string }
  | { kind: "sftp" };

/**
 * Routes what the client asked sshd for, as podspawn does: nothing (or only
 * blanks) is a login shell; `internal-sftp` or a program ending in
 * `sftp-server` (what sshd puts in `SSH_ORIGINAL_COMMAND` for the `sftp`
 * subsystem, from its `Subsystem` line) is SFTP, which capsule serves in any
 * image; anything else runs as a command.
 *
 * @param original `SSH_ORIGINAL_COMMAND`, `undefined` when sshd set none
 *
 * @example
 * ```ts
 * routeOriginalCommand("/usr/lib/openssh/sftp-server"); // { kind: "sftp" }
 * ```
 */
export function routeOriginalCommand(original: string | undefined): OriginalRequest {
  const command = original ?? "";
  if (command.trim() === "") return { kind: "shell" };
  const program = command.trim().split(/\s+/)[0]!;
  if (program === "internal-sftp" || /(^|\/)sftp-server$/.test(program)) return { kind: "sftp" };
  return { kind: "exec", command };
}
