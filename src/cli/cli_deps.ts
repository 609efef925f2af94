import type { Config } from "../config/mod.ts";
import type { SpawnOptions } from "../ssh/mod.ts";

/**
 * Runs one `capsule spawn` session through the daemon's socket; returns its
 * exit status.
 *
 * @throws {Error} with the one line for the user when the daemon cannot be reached
 */
export type SpawnRun = (options: SpawnOptions) => Promise<number>;

/** What `serve` gets besides the config. */
export interface ServeOptions {
  /** Loads the configuration again from the same file, environment and flags (for SIGHUP). */
  reload(): Promise<Config>;
  /**
   * Serve exactly one SSH connection on standard input and output instead of
   * listening (`serve --stdio`: inetd, systemd's `Accept=yes`, `ProxyCommand`).
   */
  stdio?: StdioClient;
}

/** Who is on the other end of standard input and output, when the caller knows. */
export interface StdioClient {
  /** `REMOTE_ADDR`, as inetd-style launchers set it. */
  remoteAddress?: string;
  /** `REMOTE_PORT`. */
  remotePort?: number;
}

/** Writes text as is (no newline added). */
export type TextWriter = (text: string) => void;

/** The parts of standard input the CLI uses; `Deno.stdin` has them. */
export interface CliStdin {
  /** The bytes of standard input. */
  readonly readable: ReadableStream<Uint8Array>;
  /** Whether a person is typing (then passwords are asked for without echo). */
  isTerminal(): boolean;
  /** Turns terminal echo and line editing off (`true`) or back on. */
  setRaw(mode: boolean): void;
}

/** A key pair made by {@linkcode CliDeps.generateHostKey}. */
export interface GeneratedKeyPair {
  /** OpenSSH private key text. */
  privateKey: string;
  /** authorized_keys-style public key line. */
  publicKey: string;
  /** `SHA256:...` */
  fingerprint: string;
}

/**
 * What the CLI needs from the rest of capsule, given by `main.ts` so that the
 * CLI does not import the SSH or server layers; tests pass fakes.
 */
export interface CliDeps {
  /** Runs the server with a validated config until it stops; returns the exit code. */
  serve(config: Config, options: ServeOptions): Promise<number>;
  /** Makes a host key pair. */
  generateHostKey(type: "ed25519" | "rsa", bits?: number): GeneratedKeyPair;
  /** Hashes a password for `users.<name>.passwordHash`. */
  hashPassword(password: string): Promise<string>;
  /**
   * Whether the configured engine has storage quotas for `container.disk`;
   * `undefined` when no engine answers. Used by `check-config` to say how
   * the disk limit is enforced; without it, check-config does not ask.
   */
  probeDiskQuota?(config: Config): Promise<boolean | undefined>;
  /** Runs a session for `capsule spawn`; without it, `spawn` fails. */
  spawn?: SpawnRun;
  /** capsule's version, e.g. `0.1.0`. */
  version: string;
  /** Default: the process's standard output. */
  stdout?: TextWriter;
  /** Default: the process's standard error. */
  stderr?: TextWriter;
  /** Default: `Deno.stdin`. */
  stdin?: CliStdin;
  /** Default: the process's environment. */
  env?: Readonly<Record<string, string>>;
  /** Directory for relative paths; default the process's. */
  cwd?: string;
}

/** {@linkcode CliDeps} with every default filled in, as commands receive them. */
export type CliContext =
  & Required<Omit<CliDeps, "probeDiskQuota" | "spawn">>
  & Pick<CliDeps, "probeDiskQuota" | "spawn">;

/** Fills in the process's streams, environment and directory where `deps` gives none. */
export function cliContext(deps: CliDeps): CliContext {
  return {
    ...deps,
    stdout: deps.stdout ?? writerFor(Deno.stdout),
    stderr: deps.stderr ?? writerFor(Deno.stderr),
    stdin: deps.stdin ?? Deno.stdin,
    env: deps.env ?? Deno.env.toObject(),
    cwd: deps.cwd ?? Deno.cwd(),
  };
}

function writerFor(stream: { writeSync(data: Uint8Array): number }): TextWriter {
  const encoder = new TextEncoder();
  return (text) => {
    let data = encoder.encode(text);
    while (data.length > 0) data = data.subarray(stream.writeSync(data));
  };
}
