import { UsageError } from "./usage_error.ts";
import { _flagsOrHelp, _HELP_FLAG } from "./_common_flags.ts";
import type { CliContext, SpawnRun } from "./cli_deps.ts";
import type { Command } from "./command.ts";
import { routeOriginalCommand } from "./route_original_command.ts";
import { USER_NAME, userSocketPath } from "../config/mod.ts";

const FLAGS = {
  ..._HELP_FLAG,
  user: { type: "string", short: "u" },
  "socket-dir": { type: "string" },
} as const;

/** Where the daemon's user sockets are unless `server.userSockets.dir` says otherwise. */
export const DEFAULT_SOCKET_DIR = "/run/capsule/users";

/** Signals relayed into the session; SIGHUP also ends it (the user hung up). */
const RELAYED = ["SIGINT", "SIGTERM", "SIGHUP", "SIGQUIT", "SIGUSR1", "SIGUSR2"] as const;

/** `capsule spawn`: OpenSSH's forced command, a session in capsule's container. */
export const spawnCommand: Command = {
  name: "spawn",
  summary: "Run a session through the daemon (OpenSSH's forced command)",
  help: () =>
    `Usage: capsule spawn --user USER [--socket-dir DIR]

The forced command that "capsule auth-keys" gives each key: run by sshd once
it has authenticated USER, it connects to the capsule daemon on
DIR/USER/capsule.sock (only USER may enter DIR/USER) and runs the session in
USER's container, exactly as capsule's own SSH server would: same containers,
pool, limits and lifecycle.

What runs comes from SSH_ORIGINAL_COMMAND: nothing gives a shell (with a
terminal when sshd allocated one: SSH_TTY), "internal-sftp" or a program
ending in "sftp-server" gives SFTP, anything else runs as a command. Standard
input, output and error, the terminal size and signals are relayed; the exit
status is the session's (128+n for a signal n). When capsule cannot be
reached it writes one line "capsule: ..." to standard error and exits 255.

Flags:
  -u, --user USER        The user sshd authenticated (required)
      --socket-dir DIR   The daemon's server.userSockets.dir (default ${DEFAULT_SOCKET_DIR})
  -h, --help             Show this help
`,
  async run(args, context) {
    const values = _flagsOrHelp(args, FLAGS, context, () => this.help());
    if (values === undefined) return 0;
    const user = values.user;
    if (user === undefined) throw new UsageError("--user is required");
    if (!USER_NAME.test(user)) throw new UsageError(`invalid user name ${JSON.stringify(user)}`);
    if (!context.spawn) throw new Error("this build of capsule cannot spawn sessions");
    return await runSpawn(context, context.spawn, {
      user,
      socket: userSocketPath(values["socket-dir"] ?? DEFAULT_SOCKET_DIR, user),
    });
  },
};

async function runSpawn(
  context: CliContext,
  spawn: SpawnRun,
  target: { user: string; socket: string },
): Promise<number> {
  const env = context.env;
  const request = routeOriginalCommand(env["SSH_ORIGINAL_COMMAND"]);
  const terminal = request.kind !== "sftp" && env["SSH_TTY"] !== undefined &&
    Deno.stdin.isTerminal();
  const listeners: [Deno.Signal, () => void][] = [];
  const listen = (signal: Deno.Signal, handler: () => void) => {
    Deno.addSignalListener(signal, handler);
    listeners.push([signal, handler]);
  };
  if (terminal) Deno.stdin.setRaw(true);
  try {
    return await spawn({
      ...target,
      request,
      pty: terminal ? { term: env["TERM"] || "xterm", ...terminalSize() } : undefined,
      env: Object.fromEntries(
        Object.entries(env).filter(([name]) => name === "LANG" || name.startsWith("LC_")),
      ),
      io: {
        stdin: Deno.stdin.readable,
        stdout: Deno.stdout.writable,
        stderr: Deno.stderr.writable,
        onSignal(relay) {
          for (const signal of RELAYED) listen(signal, () => relay(signal.slice(3)));
          return () => {};
        },
        onResize(resize) {
          if (terminal) listen("SIGWINCH", () => resize(terminalSize()));
          return () => {};
        },
      },
    });
  } catch (error) {
    const reason = error instanceof Error ? error.message : String(error);
    context.stderr(`capsule: ${reason}\n`);
    return 255;
  } finally {
    for (const [signal, handler] of listeners) Deno.removeSignalListener(signal, handler);
    if (terminal) {
      try {
        Deno.stdin.setRaw(false);
      } catch {
        // The terminal is gone with the session.
      }
    }
  }
}

/** The size of the terminal sshd gave this process. */
function terminalSize(): { rows: number; cols: number } {
  const { rows, columns } = Deno.consoleSize();
  return { rows, cols: columns };
}
