/** Runs child processes to completion, timing them from spawn to exit. */
import { createHash } from "node:crypto";

/** How a child process ended, and what it printed. */
export interface RunResult {
  /** Exit code; 128 + n for a signal, as a shell reports it. */
  code: number;
  stdout: string;
  stderr: string;
  /** Wall time from spawn to exit, in milliseconds. */
  ms: number;
  /** Killed by the timeout. */
  timedOut: boolean;
}

/** What a child process printed on stdout, as a byte count and a SHA-256. */
export interface HashedRunResult {
  code: number;
  bytes: number;
  sha256: string;
  stderr: string;
  ms: number;
  timedOut: boolean;
}

/** Options of {@linkcode runProcess}. */
export interface RunOptions {
  /** A file fed to the child's stdin by the shell (`< file`), not through this process. */
  stdinFile?: string;
  /** SIGKILL the child after this long. Default: 120 s. */
  timeoutMs?: number;
}

const DECODER = new TextDecoder();

/** The program and arguments that run `cmd args...` with stdin redirected from `file`. */
function withStdinFile(cmd: string, args: string[], file: string): [string, string[]] {
  return ["/bin/sh", ["-c", 'f=$1; shift; exec "$@" < "$f"', "sh", file, cmd, ...args]];
}

function killAfter(
  child: Deno.ChildProcess,
  ms: number,
  onKill: () => void,
): ReturnType<typeof setTimeout> {
  return setTimeout(() => {
    onKill();
    try {
      child.kill("SIGKILL");
    } catch {
      // Already exited.
    }
  }, ms);
}

/** Runs `cmd args...` to completion and collects its output. */
export async function runProcess(
  cmd: string,
  args: string[],
  options: RunOptions = {},
): Promise<RunResult> {
  const [program, argv] = options.stdinFile === undefined
    ? [cmd, args]
    : withStdinFile(cmd, args, options.stdinFile);
  let timedOut = false;
  const started = performance.now();
  const child = new Deno.Command(program, {
    args: argv,
    stdin: "null",
    stdout: "piped",
    stderr: "piped",
  }).spawn();
  const timer = killAfter(child, options.timeoutMs ?? 120_000, () => (timedOut = true));
  try {
    const out = await child.output();
    const ms = performance.now() - started;
    return {
      code: out.signal !== null ? 128 + signalNumber(out.signal) : out.code,
      stdout: DECODER.decode(out.stdout),
      stderr: DECODER.decode(out.stderr),
      ms,
      timedOut,
    };
  } finally {
    clearTimeout(timer);
  }
}

/** Runs `cmd args...`, streaming its stdout through SHA-256 instead of keeping it. */
export async function runHashed(
  cmd: string,
  args: string[],
  timeoutMs = 300_000,
): Promise<HashedRunResult> {
  let timedOut = false;
  const started = performance.now();
  const child = new Deno.Command(cmd, {
    args,
    stdin: "null",
    stdout: "piped",
    stderr: "piped",
  }).spawn();
  const timer = killAfter(child, timeoutMs, () => (timedOut = true));
  try {
    const hash = createHash("sha256");
    let bytes = 0;
    const stderr = new Response(child.stderr).text();
    for await (const chunk of child.stdout) {
      hash.update(chunk);
      bytes += chunk.byteLength;
    }
    const status = await child.status;
    const ms = performance.now() - started;
    return {
      code: status.signal !== null ? 128 + signalNumber(status.signal) : status.code,
      bytes,
      sha256: hash.digest("hex"),
      stderr: await stderr,
      ms,
      timedOut,
    };
  } finally {
    clearTimeout(timer);
  }
}

const SIGNALS: Partial<Record<Deno.Signal, number>> = {
  SIGHUP: 1,
  SIGINT: 2,
  SIGQUIT: 3,
  SIGABRT: 6,
  SIGKILL: 9,
  SIGSEGV: 11,
  SIGPIPE: 13,
  SIGALRM: 14,
  SIGTERM: 15,
};

/** The number of a signal, as a shell adds it to 128 for the exit status; 0 when unknown. */
export function signalNumber(signal: Deno.Signal): number {
  return SIGNALS[signal] ?? 0;
}

/** The first line of a text, trimmed and shortened, for a failure message. */
export function firstLine(text: string, max = 160): string {
  const line = text.split("\n").map((l) => l.trim()).find((l) => l !== "") ?? "";
  return line.length > max ? `${line.slice(0, max - 1)}…` : line;
}
