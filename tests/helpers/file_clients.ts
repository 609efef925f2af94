/**
 * File-transfer clients for end-to-end tests, each with a timeout so that a
 * hang fails the test, not the suite: OpenSSH's `sftp` and `scp`, `rsync`
 * over ssh, curl's and lftp's SFTP, PuTTY's `psftp`, and paramiko's and
 * asyncssh's SFTP through `tests/e2e/clients/sftp_roundtrip.py`.
 */
import { PYTHON } from "./adversary.ts";
import { type Login, sshArgs } from "./ssh_client.ts";

const ROUNDTRIP = new URL("../e2e/clients/sftp_roundtrip.py", import.meta.url).pathname;

/** The outcome of one client run. */
export interface Run {
  code: number;
  stdout: string;
  stderr: string;
  /** The client was killed after its timeout. */
  timedOut: boolean;
  /** Wall-clock milliseconds. */
  ms: number;
}

/** Options of {@linkcode run}. */
export interface RunOptions {
  env?: Record<string, string>;
  cwd?: string;
  /** Killed (SIGKILL) after this many milliseconds; 30 s unless given. */
  timeoutMs?: number;
}

/** Runs a program to completion with no stdin, killing it after its timeout. */
export async function run(cmd: string[], options: RunOptions = {}): Promise<Run> {
  const [program, ...args] = cmd;
  const started = performance.now();
  const child = new Deno.Command(program!, {
    args,
    env: options.env ?? {},
    ...(options.cwd ? { cwd: options.cwd } : {}),
    stdin: "null",
    stdout: "piped",
    stderr: "piped",
  }).spawn();
  let timedOut = false;
  const timer = setTimeout(() => {
    timedOut = true;
    child.kill("SIGKILL");
  }, options.timeoutMs ?? 30_000);
  try {
    const out = await child.output();
    const dec = new TextDecoder();
    return {
      code: out.code,
      stdout: dec.decode(out.stdout),
      stderr: dec.decode(out.stderr),
      timedOut,
      ms: performance.now() - started,
    };
  } finally {
    clearTimeout(timer);
  }
}

/** A one-line account of a run, for assertion messages. */
export function describe(run: Run): string {
  return `exit ${run.code}${run.timedOut ? " (killed after its timeout)" : ""}\n` +
    `stdout:\n${run.stdout}\nstderr:\n${run.stderr}`;
}

function password(login: Login): string {
  if (login.password === undefined) throw new TypeError(`Login "${login.user}" has no password`);
  return login.password;
}

/** `user@127.0.0.1:path`, the remote side of scp and rsync. */
export function remote(login: Login, path: string): string {
  return `${login.user}@127.0.0.1:${path}`;
}

/** {@linkcode sshArgs} for `sftp` and `scp`, which spell the port `-P` (`-p` preserves times). */
export function sftpArgs(login: Login): string[] {
  return sshArgs(login).map((arg, i, all) =>
    arg === "-p" && all[i + 1] === String(login.port) ? "-P" : arg
  );
}

/**
 * Runs OpenSSH's `sftp -b` with `commands` as its batch file (one a line; a
 * leading `-` lets a command fail without ending the batch). sftp echoes each
 * command as `sftp> command` on stdout and stops at the first failure, with
 * exit status 1.
 */
export async function sftpBatch(
  login: Login,
  commands: string[],
  options: RunOptions & {
    dir: string;
    /** More `ssh` options (e.g. `-o ControlPath=...` to go through a ControlMaster). */
    sshOptions?: string[];
  },
): Promise<Run> {
  const batch = await Deno.makeTempFile({ dir: options.dir, prefix: "batch-" });
  await Deno.writeTextFile(batch, commands.join("\n") + "\n");
  try {
    return await run([
      "sshpass",
      "-p",
      password(login),
      "sftp",
      // First, since the first value of an option wins: `-b` asks ssh for
      // BatchMode, which would turn the password prompt (sshpass's) off.
      "-o",
      "BatchMode=no",
      ...sftpArgs(login),
      ...(options.sshOptions ?? []),
      "-b",
      batch,
      `${login.user}@127.0.0.1`,
    ], options);
  } finally {
    await Deno.remove(batch);
  }
}

/** Runs OpenSSH's `scp` with `args` (sources and target); `legacy` adds `-O` (scp protocol, not SFTP). */
export function scp(
  login: Login,
  args: string[],
  options: RunOptions & { legacy?: boolean } = {},
): Promise<Run> {
  return run([
    "sshpass",
    "-p",
    password(login),
    "scp",
    ...(options.legacy ? ["-O"] : []),
    ...sftpArgs(login),
    ...args,
  ], options);
}

/** Runs `rsync -e "ssh ..."` with `args` (options, sources and target). */
export function rsync(login: Login, args: string[], options: RunOptions = {}): Promise<Run> {
  // rsync splits -e on spaces; none of sshArgs() holds one. The password comes from SSHPASS.
  const rsh = ["sshpass", "-e", "ssh", ...sshArgs(login)].join(" ");
  return run(["rsync", "-e", rsh, ...args], {
    ...options,
    env: { ...options.env, SSHPASS: password(login) },
  });
}

/** `sftp://127.0.0.1:PORT/path` for curl (an absolute path, not one under the home directory). */
export function sftpUrl(login: Login, path: string): string {
  return `sftp://127.0.0.1:${login.port}${path.split("/").map(encodeURIComponent).join("/")}`;
}

/** Runs curl against `sftp://` URLs with the login's password and no host key check (`-k`). */
export function curl(
  login: Login,
  args: string[],
  options: RunOptions & { home: string },
): Promise<Run> {
  return run([
    "curl",
    "--silent",
    "--show-error",
    "--fail",
    "--insecure",
    "--connect-timeout",
    "20",
    "--user",
    `${login.user}:${password(login)}`,
    ...args,
  ], { ...options, env: { ...options.env, HOME: options.home } });
}

/**
 * Runs lftp's SFTP (OpenSSH's `ssh` underneath, its password prompt answered
 * by lftp) with `commands` after the connection's settings.
 */
export function lftp(
  login: Login,
  commands: string[],
  options: RunOptions & { home: string },
): Promise<Run> {
  // lftp adds the port, user and host itself.
  const args = sshArgs(login);
  const port = args.indexOf("-p");
  args.splice(port, 2);
  const connect = ["ssh", "-a", "-x", ...args].join(" ");
  const script = [
    "set sftp:auto-confirm yes",
    "set net:max-retries 1",
    "set net:timeout 20",
    "set cmd:fail-exit yes",
    `set sftp:connect-program "${connect}"`,
    ...commands,
    "bye",
  ].join("; ");
  return run([
    "lftp",
    "-u",
    `${login.user},${password(login)}`,
    "-p",
    String(login.port),
    "-e",
    script,
    "sftp://127.0.0.1",
  ], { ...options, env: { ...options.env, HOME: options.home } });
}

/**
 * Runs PuTTY's `psftp -batch -b` with `commands`, trusting only the host keys
 * given (`SHA256:...` fingerprints, as capsule logs them in `host_key.loaded`).
 */
export async function psftp(
  login: Login,
  commands: string[],
  options: RunOptions & { home: string; hostKeys: string[] },
): Promise<Run> {
  const batch = await Deno.makeTempFile({ dir: options.home, prefix: "psftp-" });
  await Deno.writeTextFile(batch, commands.join("\n") + "\n");
  try {
    return await run([
      "psftp",
      "-batch",
      "-P",
      String(login.port),
      "-pw",
      password(login),
      ...options.hostKeys.flatMap((key) => ["-hostkey", key]),
      "-b",
      batch,
      `${login.user}@127.0.0.1`,
    ], { ...options, env: { ...options.env, HOME: options.home } });
  } finally {
    await Deno.remove(batch);
  }
}

/** What `sftp_roundtrip.py` reports. */
export interface Roundtrip {
  /** The remote directory's names after the upload and a rename. */
  listing: string[];
  /** The uploaded file's size as the server stats it. */
  size: number;
  /** Where the symlink made to it points (paramiko only). */
  readlink?: string;
  /** Whether the directory is gone from its parent's listing at the end. */
  removed: boolean;
}

/**
 * Runs `sftp_roundtrip.py` with paramiko or asyncssh: in one SFTP session,
 * uploads `local` into the new remote directory `remoteDir`, lists, stats,
 * renames, downloads it back to `${local}.back`, then removes it all.
 */
export async function pythonRoundtrip(
  library: "paramiko" | "asyncssh",
  login: Login,
  local: string,
  remoteDir: string,
): Promise<{ run: Run; result?: Roundtrip }> {
  const result = await run([
    PYTHON,
    "-B",
    ROUNDTRIP,
    library,
    String(login.port),
    login.user,
    password(login),
    local,
    remoteDir,
  ], { timeoutMs: 30_000 });
  if (result.code !== 0) return { run: result };
  const last = result.stdout.trim().split("\n").at(-1) ?? "";
  return { run: result, result: JSON.parse(last) as Roundtrip };
}
