/**
 * OpenSSH's `sftp` in batch mode, with the time each line of its output
 * arrived: `sftp` echoes every batch command (`sftp> put ...`) before it runs
 * it, and its stdout is line-buffered, so the echoes time the commands.
 */
import { sshArgs } from "../tests/helpers/ssh_client.ts";
import type { SshLogin } from "./openssh_client.ts";
import { signalNumber } from "./process.ts";

/** One line `sftp` printed, and when. */
export interface SftpLine {
  /** Milliseconds since `sftp` was spawned. */
  ms: number;
  text: string;
}

/** How one `sftp -b -` run ended, and what it printed. */
export interface SftpBatchResult {
  code: number;
  lines: SftpLine[];
  stderr: string;
  /** From spawn to exit, in milliseconds. */
  ms: number;
  timedOut: boolean;
}

/**
 * Arguments of `sftp` up to and including the destination: the tests' client
 * options (the bench key only, no host key checks, no user config), whose
 * `-p PORT` is `-P PORT` for sftp.
 */
export function sftpArgs(login: SshLogin): string[] {
  const args = sshArgs(login);
  const port = args.indexOf("-p");
  if (port < 0 || args[port + 1] !== String(login.port)) {
    throw new Error("the OpenSSH client options no longer set the port with -p");
  }
  args[port] = "-P";
  return [...args, `${login.user}@127.0.0.1`];
}

/**
 * Runs `sftp -b -` with `commands` on its stdin, one per line.
 *
 * @param timeoutMs SIGKILL after this long
 */
export async function runSftpBatch(
  login: SshLogin,
  commands: readonly string[],
  timeoutMs = 300_000,
): Promise<SftpBatchResult> {
  let timedOut = false;
  const started = performance.now();
  const child = new Deno.Command("sftp", {
    args: ["-b", "-", ...sftpArgs(login)],
    stdin: "piped",
    stdout: "piped",
    stderr: "piped",
  }).spawn();
  const timer = setTimeout(() => {
    timedOut = true;
    try {
      child.kill("SIGKILL");
    } catch {
      // Already exited.
    }
  }, timeoutMs);
  try {
    const stderr = new Response(child.stderr).text();
    const writer = child.stdin.getWriter();
    // sftp may be gone already (refused login): its exit status says why, not this write.
    await writer.write(new TextEncoder().encode(commands.map((c) => `${c}\n`).join("")))
      .catch(() => {});
    await writer.close().catch(() => {});
    const lines: SftpLine[] = [];
    let buffered = "";
    for await (const chunk of child.stdout.pipeThrough(new TextDecoderStream())) {
      const ms = performance.now() - started;
      buffered += chunk;
      let newline;
      while ((newline = buffered.indexOf("\n")) >= 0) {
        lines.push({ ms, text: buffered.slice(0, newline) });
        buffered = buffered.slice(newline + 1);
      }
    }
    if (buffered !== "") lines.push({ ms: performance.now() - started, text: buffered });
    const status = await child.status;
    return {
      code: status.signal !== null ? 128 + signalNumber(status.signal) : status.code,
      lines,
      stderr: await stderr,
      ms: performance.now() - started,
      timedOut,
    };
  } finally {
    clearTimeout(timer);
  }
}

/** When the echo of the first batch command starting with `command` arrived, if it did. */
export function echoedAt(result: SftpBatchResult, command: string): number | undefined {
  return result.lines.find((line) => line.text.startsWith(`sftp> ${command}`))?.ms;
}
