/** Real SSH clients for end-to-end tests: OpenSSH (`ssh`, `sshpass`) and an ssh2 client. */
// @ts-types="@types/ssh2"
import { Client } from "ssh2";
// @ts-types="@types/ssh2"
import type { ClientChannel, ConnectConfig, PseudoTtyOptions } from "ssh2";

/** How to log in. */
export interface Login {
  port: number;
  user: string;
  password?: string;
  identityFile?: string;
}

/** The result of one OpenSSH client run. */
export interface SshResult {
  code: number;
  stdout: string;
  stderr: string;
  stdoutBytes: Uint8Array;
}

/** Options of {@linkcode ssh}. */
export interface SshOptions {
  /** Bytes for the client's stdin; none means /dev/null. */
  stdin?: string | Uint8Array;
  /** Extra `ssh` arguments before the destination (e.g. `-tt`, `-o SendEnv=LANG`). */
  args?: string[];
  env?: Record<string, string>;
}

/** The OpenSSH arguments that make a client quiet and independent of ~/.ssh/config, for `port`. */
export function sshBaseArgs(port: number): string[] {
  return [
    "-F",
    "/dev/null",
    "-p",
    String(port),
    "-o",
    "StrictHostKeyChecking=no",
    "-o",
    "UserKnownHostsFile=/dev/null",
    "-o",
    "LogLevel=ERROR",
    "-o",
    "ConnectTimeout=20",
  ];
}

/** {@linkcode sshBaseArgs} plus how `login` authenticates (a key in batch mode, or one password prompt). */
export function sshArgs(login: Login): string[] {
  const args = sshBaseArgs(login.port);
  if (login.identityFile) {
    args.push(
      "-i",
      login.identityFile,
      "-o",
      "IdentitiesOnly=yes",
      "-o",
      "BatchMode=yes",
      "-o",
      "PreferredAuthentications=publickey",
    );
  } else {
    args.push(
      "-o",
      "PreferredAuthentications=password",
      "-o",
      "PubkeyAuthentication=no",
      "-o",
      "NumberOfPasswordPrompts=1",
    );
  }
  return args;
}

/** The command line (program and arguments) of an OpenSSH run. */
export function sshCommand(login: Login, command?: string, extra: string[] = []): string[] {
  const ssh = ["ssh", ...sshArgs(login), ...extra, `${login.user}@127.0.0.1`];
  if (command !== undefined) ssh.push("--", command);
  return login.password !== undefined ? ["sshpass", "-p", login.password, ...ssh] : ssh;
}

/** Runs OpenSSH's `ssh` to completion. */
export async function ssh(
  login: Login,
  command?: string,
  options: SshOptions = {},
): Promise<SshResult> {
  const [program, ...args] = sshCommand(login, command, options.args);
  const child = new Deno.Command(program!, {
    args,
    stdin: options.stdin === undefined ? "null" : "piped",
    stdout: "piped",
    stderr: "piped",
    ...(options.env ? { env: options.env } : {}),
  }).spawn();
  if (options.stdin !== undefined) {
    const writer = child.stdin.getWriter();
    const data = typeof options.stdin === "string"
      ? new TextEncoder().encode(options.stdin)
      : options.stdin;
    await writer.write(data).catch(() => {});
    await writer.close().catch(() => {});
  }
  const out = await child.output();
  const dec = new TextDecoder();
  return {
    code: out.code,
    stdout: dec.decode(out.stdout),
    stderr: dec.decode(out.stderr),
    stdoutBytes: out.stdout,
  };
}

/** An authenticated ssh2 client connection. */
export async function connectSsh2(
  login: Login,
  extra: Partial<ConnectConfig> = {},
): Promise<Client> {
  const client = new Client();
  await new Promise<void>((resolve, reject) => {
    client.once("ready", () => resolve());
    client.once("error", reject);
    client.connect({
      host: "127.0.0.1",
      port: login.port,
      username: login.user,
      ...(login.password !== undefined ? { password: login.password } : {}),
      readyTimeout: 20_000,
      ...extra,
    });
  });
  return client;
}

/** Opens an exec or shell channel on an ssh2 client. */
export function openChannel(
  client: Client,
  what: { exec: string } | { shell: true },
  options: { pty?: PseudoTtyOptions; env?: Record<string, string> } = {},
): Promise<ClientChannel> {
  return new Promise((resolve, reject) => {
    const done = (error: Error | undefined, channel: ClientChannel) =>
      error ? reject(error) : resolve(channel);
    const opts = {
      ...(options.env ? { env: options.env } : {}),
      ...(options.pty ? { pty: options.pty } : {}),
    };
    if ("exec" in what) client.exec(what.exec, opts, done);
    else client.shell(options.pty ?? false, options.env ? { env: options.env } : {}, done);
  });
}

/** Collects a channel's output until it closes, with its exit status. */
export function collect(channel: ClientChannel): Promise<{
  stdout: string;
  stderr: string;
  code: number | undefined;
  signal: string | undefined;
}> {
  return new Promise((resolve) => {
    let stdout = "";
    let stderr = "";
    let code: number | undefined;
    let signal: string | undefined;
    channel.on("data", (d: Uint8Array) => (stdout += new TextDecoder().decode(d)));
    channel.stderr.on("data", (d: Uint8Array) => (stderr += new TextDecoder().decode(d)));
    channel.on("exit", (c: number | null, s?: string) => {
      if (typeof c === "number") code = c;
      if (s) signal = s;
    });
    channel.on("close", () => resolve({ stdout, stderr, code, signal }));
  });
}

/** Waits until `predicate` holds for the text a channel has printed so far. */
export function waitForOutput(
  channel: ClientChannel,
  predicate: (text: string) => boolean,
  timeoutMs = 20_000,
): Promise<string> {
  return new Promise((resolve, reject) => {
    let text = "";
    const timer = setTimeout(() => {
      channel.off("data", onData);
      reject(new Error(`Output never matched; got: ${JSON.stringify(text)}`));
    }, timeoutMs);
    const onData = (d: Uint8Array) => {
      text += new TextDecoder().decode(d);
      if (predicate(text)) {
        clearTimeout(timer);
        channel.off("data", onData);
        resolve(text);
      }
    };
    channel.on("data", onData);
  });
}

/**
 * busybox ash's prompt, possibly followed by its clear-to-end-of-screen
 * sequence or its cursor-position query.
 */
// deno-lint-ignore no-control-regex
export const isPrompt = (text: string) => /# (\x1b\[J|\x1b\[6n)*$/.test(text);

/**
 * An ssh2 client with a 80x24 PTY shell open and its first prompt shown. It
 * answers cursor-position queries (`ESC[6n`) as a terminal would, since
 * busybox ash waits for the answer before reading a line.
 */
export async function ptyShell(login: Login) {
  const client = await connectSsh2(login);
  try {
    const channel = await openChannel(client, { shell: true }, {
      pty: { term: "xterm", rows: 24, cols: 80 },
    });
    channel.on("data", (data: Uint8Array) => {
      if (new TextDecoder().decode(data).includes("\x1b[6n")) channel.write("\x1b[1;1R");
    });
    const done = collect(channel);
    await waitForOutput(channel, isPrompt);
    return { client, channel, done };
  } catch (error) {
    client.end();
    throw error;
  }
}
