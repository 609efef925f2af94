import type { ContainerConfig } from "../config/types.ts";
import type { SessionContext } from "../session/mod.ts";
import { toolPath } from "../tools/mod.ts";

/**
 * Where images keep OpenSSH's sftp-server (Debian and Ubuntu, Fedora and
 * RHEL, Arch, Alpine's openssh-sftp-server, BSD-style layouts).
 */
const IMAGE_SFTP_SERVERS = [
  "/usr/lib/openssh/sftp-server",
  "/usr/libexec/openssh/sftp-server",
  "/usr/lib/ssh/sftp-server",
  "/usr/libexec/sftp-server",
  "/usr/lib/sftp-server",
  "/usr/local/libexec/sftp-server",
];

/**
 * Starts the image's own sftp-server when it has one and the user has a name
 * (the image's server exits with "No user found for uid" otherwise), else
 * capsule's, which has no such need.
 */
const SFTP_LAUNCHER = `if id -un >/dev/null 2>&1; then
  for p in ${IMAGE_SFTP_SERVERS.join(" ")}; do
    if [ -x "$p" ]; then exec "$p" "$@"; fi
  done
fi
exec ${toolPath("sftp-server")} "$@"`;

/**
 * How long a session with agent forwarding waits for the agent's socket to
 * appear before its command starts anyway: the relay that makes the socket
 * starts next to the session, and `ssh -A host ssh-add -l` must not lose
 * the race.
 */
export const AGENT_SOCKET_WAIT_MS = 3_000;

/**
 * What a session runs: its shell, `<shell> -c <command>`, or the sftp
 * server; behind capsule-relay's `wait` for the agent socket when the session
 * forwards the agent.
 */
export function sessionCommand(
  ctx: Pick<SessionContext, "request" | "agentSocket">,
  container: ContainerConfig,
): string[] {
  const command = baseCommand(ctx, container);
  if (ctx.agentSocket === undefined || ctx.request.kind === "subsystem") return command;
  return [
    toolPath("capsule-relay"),
    "wait",
    ctx.agentSocket,
    String(AGENT_SOCKET_WAIT_MS),
    "--",
    ...command,
  ];
}

function baseCommand(
  ctx: Pick<SessionContext, "request">,
  container: ContainerConfig,
): string[] {
  switch (ctx.request.kind) {
    case "exec":
      return [container.shell, "-c", ctx.request.command];
    case "subsystem":
      // Only `sftp` gets this far (the session refuses other subsystems).
      return [
        container.shell,
        "-c",
        SFTP_LAUNCHER,
        "sftp-server",
        ...(container.sftp.readOnly ? ["-R"] : []),
        // The operations, one line each on stderr, for the audit (see src/audit/).
        ...(ctx.request.log ? ["-e", "-l", "INFO"] : []),
      ];
    default:
      return [container.shell];
  }
}

/** Whether the session's process gets a TTY: it asked for one, and it is not a subsystem (binary). */
export function wantsTty(ctx: Pick<SessionContext, "request" | "pty">): boolean {
  return ctx.pty !== undefined && ctx.request.kind !== "subsystem";
}
