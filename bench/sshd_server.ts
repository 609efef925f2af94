/** A private OpenSSH server on a loopback port, with its own config, host key and pid file. */
import { runProcess } from "./process.ts";
import { sleep } from "./sleep.ts";

/** A running sshd started by the bench. */
export interface SshdServer {
  port: number;
  pid: number;
  /** Whether this sshd accepted `PerSourcePenalties no` (OpenSSH 9.8 and later). */
  perSourcePenalties: boolean;
  /** Stops the listener and any session process it left; idempotent. */
  stop(): Promise<void>;
}

/** Options of {@linkcode startSshd}. */
export interface SshdOptions {
  /** Directory for this server's files (created). */
  dir: string;
  authorizedKeysFile: string;
  /** What every session runs, whatever the client asked; none: the client's command. */
  forceCommand?: string;
  /** What the `sftp` subsystem runs (`internal-sftp` or a command line); none: no SFTP. */
  sftpSubsystem?: string;
  /** Allow local forwarding (`ssh -L`); none: no forwarding at all. */
  localForwarding?: boolean;
}

/** The sshd binary: Debian's, or the first `sshd` on the PATH. */
export async function findSshd(): Promise<string> {
  for (const candidate of ["/usr/sbin/sshd", "/usr/local/sbin/sshd"]) {
    if (await Deno.stat(candidate).then(() => true, () => false)) return candidate;
  }
  const found = await runProcess("/bin/sh", ["-c", "command -v sshd"]);
  if (found.code === 0 && found.stdout.trim() !== "") return found.stdout.trim();
  throw new Error("sshd not found: install openssh-server (scripts/setup.sh --test)");
}

/** A port that was free a moment ago on 127.0.0.1. */
export function freePort(): number {
  const listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const { port } = listener.addr as Deno.NetAddr;
  listener.close();
  return port;
}

function sshdConfig(options: SshdOptions, port: number, penalties: boolean): string {
  return [
    "ListenAddress 127.0.0.1",
    `Port ${port}`,
    `HostKey ${options.dir}/ssh_host_ed25519_key`,
    `PidFile ${options.dir}/sshd.pid`,
    "UsePAM no",
    "StrictModes no",
    `AuthorizedKeysFile ${options.authorizedKeysFile}`,
    "PubkeyAuthentication yes",
    "PasswordAuthentication no",
    "KbdInteractiveAuthentication no",
    "PermitRootLogin yes",
    ...(options.forceCommand !== undefined ? [`ForceCommand ${options.forceCommand}`] : []),
    ...(options.sftpSubsystem !== undefined ? [`Subsystem sftp ${options.sftpSubsystem}`] : []),
    "MaxStartups 200:30:400",
    "MaxSessions 1000",
    "PrintMotd no",
    "PrintLastLog no",
    "X11Forwarding no",
    `AllowTcpForwarding ${options.localForwarding ? "local" : "no"}`,
    "AllowAgentForwarding no",
    ...(penalties ? ["PerSourcePenalties no"] : []),
    "",
  ].join("\n");
}

/** Whether `sshd -t` accepts the config. */
async function configValid(sshd: string, file: string): Promise<{ ok: boolean; error: string }> {
  const result = await runProcess(sshd, ["-t", "-f", file], { timeoutMs: 30_000 });
  return { ok: result.code === 0, error: result.stderr.trim() };
}

/** sshd needs its privilege separation directory. Returns whether it was made here. */
export async function ensurePrivsepDir(): Promise<boolean> {
  if (await Deno.stat("/run/sshd").then(() => true, () => false)) return false;
  try {
    await Deno.mkdir("/run/sshd", { recursive: true, mode: 0o755 });
    return true;
  } catch {
    return false;
  }
}

/** Starts `sshd -D -e -f <dir>/sshd_config` and waits until it listens. */
export async function startSshd(options: SshdOptions): Promise<SshdServer> {
  const sshd = await findSshd();
  await Deno.mkdir(options.dir, { recursive: true });
  const keygen = await runProcess("ssh-keygen", [
    "-q",
    "-t",
    "ed25519",
    "-N",
    "",
    "-f",
    `${options.dir}/ssh_host_ed25519_key`,
  ]);
  if (keygen.code !== 0) throw new Error(`ssh-keygen failed: ${keygen.stderr.trim()}`);
  const configFile = `${options.dir}/sshd_config`;

  let lastError = "";
  for (let attempt = 0; attempt < 3; attempt++) {
    const port = freePort();
    let penalties = true;
    await Deno.writeTextFile(configFile, sshdConfig(options, port, penalties));
    let check = await configValid(sshd, configFile);
    if (!check.ok && /PerSourcePenalties/.test(check.error)) {
      penalties = false;
      await Deno.writeTextFile(configFile, sshdConfig(options, port, penalties));
      check = await configValid(sshd, configFile);
    }
    if (!check.ok) throw new Error(`sshd refuses its config: ${check.error}`);
    const started = await spawnSshd(sshd, configFile);
    if (started.listening) {
      return {
        port,
        pid: started.child.pid,
        perSourcePenalties: penalties,
        stop: once(() => stopSshd(started.child)),
      };
    }
    lastError = started.output;
  }
  throw new Error(`sshd did not start: ${lastError}`);
}

async function spawnSshd(
  sshd: string,
  configFile: string,
): Promise<{ child: Deno.ChildProcess; listening: boolean; output: string }> {
  const child = new Deno.Command(sshd, {
    args: ["-D", "-e", "-f", configFile],
    stdin: "null",
    stdout: "null",
    stderr: "piped",
  }).spawn();
  const lines: string[] = [];
  let listening = false;
  let notify: () => void = () => {};
  const changed = () => new Promise<void>((resolve) => (notify = resolve));
  // Drains sshd's log for its whole life; only the last lines are kept.
  (async () => {
    let buffered = "";
    for await (const chunk of child.stderr.pipeThrough(new TextDecoderStream())) {
      buffered += chunk;
      let newline;
      while ((newline = buffered.indexOf("\n")) >= 0) {
        const line = buffered.slice(0, newline);
        buffered = buffered.slice(newline + 1);
        if (/Server listening on/.test(line)) listening = true;
        lines.push(line);
        if (lines.length > 50) lines.shift();
        notify();
      }
    }
    notify();
  })().catch(() => {});
  let exited = false;
  child.status.then(() => {
    exited = true;
    notify();
  });
  const deadline = Date.now() + 15_000;
  while (!listening && !exited && Date.now() < deadline) {
    await Promise.race([changed(), sleep(200)]);
  }
  if (!listening) {
    try {
      child.kill("SIGKILL");
    } catch {
      // Already exited.
    }
    await child.status;
  }
  return { child, listening, output: lines.join("\n") };
}

function once(fn: () => Promise<void>): () => Promise<void> {
  let running: Promise<void> | undefined;
  return () => (running ??= fn());
}

/** Pids of every descendant of `pid` (sshd's per-connection processes). */
async function descendants(pid: number): Promise<number[]> {
  const found: number[] = [];
  let frontier = [pid];
  while (frontier.length > 0) {
    const next: number[] = [];
    for (const parent of frontier) {
      const result = await runProcess("pgrep", ["-P", String(parent)]);
      next.push(...result.stdout.split("\n").filter((l) => l !== "").map(Number));
    }
    found.push(...next);
    frontier = next;
  }
  return found;
}

/** Whether `pid` is a live process (not gone, not a zombie). */
function alive(pid: number): boolean {
  try {
    const stat = Deno.readTextFileSync(`/proc/${pid}/stat`);
    return stat.slice(stat.lastIndexOf(")") + 2, stat.lastIndexOf(")") + 3) !== "Z";
  } catch {
    return false;
  }
}

async function stopSshd(child: Deno.ChildProcess): Promise<void> {
  // Session processes outlive the listener until their client leaves: note them first.
  const sessions = await descendants(child.pid);
  try {
    child.kill("SIGTERM");
  } catch {
    // Already exited.
  }
  const exited = await Promise.race([
    child.status.then(() => true),
    sleep(5_000).then(() => false),
  ]);
  if (!exited) {
    try {
      child.kill("SIGKILL");
    } catch {
      // Already exited.
    }
    await child.status;
  }
  for (let round = 0; round < 20; round++) {
    const left = sessions.filter(alive);
    if (left.length === 0) return;
    if (round >= 10) {
      for (const pid of left) {
        try {
          Deno.kill(pid, "SIGKILL");
        } catch {
          // Gone meanwhile.
        }
      }
    }
    await sleep(250);
  }
}
