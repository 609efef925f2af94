import { Buffer } from "node:buffer";
// @ts-types="@types/ssh2"
import type { Client, ClientChannel, PseudoTtyOptions } from "ssh2";
import { ClientError } from "./client_error.ts";
import { exitOf, type ExitStatus } from "./_exit_of.ts";
import { type PtyOptions, ShellSession } from "./shell_session.ts";
import { SftpClient } from "./sftp_client.ts";

/** What {@linkcode CapsuleClient.exec} resolves with. */
export interface ExecResult extends ExitStatus {
  /** Everything the command wrote to standard output, byte for byte. */
  stdout: Uint8Array;
  /** Everything it wrote to standard error (with a `pty`, it all comes as `stdout`). */
  stderr: Uint8Array;
}

/** Options of {@linkcode CapsuleClient.exec}. */
export interface ExecOptions {
  /** The command's standard input (a string as UTF-8); end-of-file follows. Default none. */
  stdin?: Uint8Array | string;
  /** Environment variables to ask for; capsule passes those `session.envAllow` allows. */
  env?: Record<string, string>;
  /** Runs the command on a terminal of this size. */
  pty?: PtyOptions;
}

/** Options of {@linkcode CapsuleClient.shell}. */
export interface ShellOptions {
  /** The terminal (default 80x24 `xterm-256color`); `false` for a shell without one. */
  pty?: PtyOptions | false;
  /** Environment variables to ask for; capsule passes those `session.envAllow` allows. */
  env?: Record<string, string>;
}

/** Something open on the connection that `close()` must close first. */
interface Closable {
  close(): unknown;
}

/**
 * An SSH connection of one user to capsule, made in-process by
 * {@linkcode openClient} (through `Capsule.openClient`): commands, shells
 * and SFTP in the user's container, with the user's limits and the
 * container lifecycle of any SSH connection.
 *
 * @example
 * ```ts
 * await using client = await capsule.openClient("alice");
 * const { stdout, status } = await client.exec("uname -a");
 * console.log(new TextDecoder().decode(stdout), status);
 * ```
 */
export class CapsuleClient {
  /** The user it logged in as. */
  readonly user: string;
  readonly #client: Client;
  readonly #done: Promise<void>;
  readonly #open = new Set<Closable>();
  #gone = false;
  #closing: Promise<void> | undefined;

  /**
   * @param user who logged in
   * @param client the ready ssh2 client, which this object now owns
   * @param done resolves once the connection has closed on both sides
   *   (and capsule gave back its containers)
   */
  constructor(user: string, client: Client, done: Promise<void>) {
    this.user = user;
    this.#client = client;
    this.#done = done;
    client.once("close", () => (this.#gone = true));
  }

  /**
   * Runs `command` in the user's container, as `ssh user@host command` would,
   * and collects its output.
   *
   * @returns the output, byte for byte, and the exit status or signal; a
   *   status that is not 0 does not reject (capsule's own refusals, such as
   *   a session over `limits.sessionsPerUser`, come as status 255 and a
   *   `capsule: ...` line on stderr)
   * @throws {ClientError} when the client is closed or capsule refuses the channel
   */
  async exec(command: string, options: ExecOptions = {}): Promise<ExecResult> {
    const channel = await this.#start("exec", (done) =>
      this.#client.exec(command, {
        ...(options.env ? { env: options.env } : {}),
        ...(options.pty ? { pty: ptyOf(options.pty) } : {}),
      }, done));
    const stdout: Buffer[] = [];
    const stderr: Buffer[] = [];
    channel.on("data", (chunk: Buffer) => stdout.push(chunk));
    channel.stderr.on("data", (chunk: Buffer) => stderr.push(chunk));
    const exit = exitOf(channel);
    if (options.stdin !== undefined) channel.end(Buffer.from(options.stdin));
    else channel.end();
    const { status, signal } = await exit;
    return { stdout: joined(stdout), stderr: joined(stderr), status, signal };
  }

  /**
   * Starts the user's login shell, on a terminal unless `pty: false`.
   *
   * @throws {ClientError} when the client is closed or capsule refuses the channel
   */
  async shell(options: ShellOptions = {}): Promise<ShellSession> {
    const window = options.pty === false ? false : ptyOf(options.pty ?? {});
    const env = options.env ? { env: options.env } : {};
    const channel = await this.#start(
      "shell",
      (done) =>
        window === false
          ? this.#client.shell(false, env, done)
          : this.#client.shell(window, env, done),
    );
    return new ShellSession(channel);
  }

  /**
   * Starts an SFTP session in the user's container.
   *
   * @throws {ClientError} when the client is closed or capsule refuses the subsystem
   *   (`container.sftp.enabled: false`)
   */
  sftp(): Promise<SftpClient> {
    this.#live();
    return new Promise((resolve, reject) => {
      this.#client.sftp((error, sftp) => {
        if (error) return reject(channelError("sftp", error));
        const client = new SftpClient(sftp);
        const handle = { close: () => void client.close() };
        this.#open.add(handle);
        sftp.once("close", () => this.#open.delete(handle));
        resolve(client);
      });
    });
  }

  /**
   * Closes every channel it opened and the connection, and resolves once
   * capsule has ended their sessions and given back their containers (in
   * `session` mode: removed). Calling it again returns the same promise.
   */
  close(): Promise<void> {
    this.#closing ??= (async () => {
      for (const handle of this.#open) handle.close();
      if (!this.#gone) this.#client.end();
      await this.#done;
    })();
    return this.#closing;
  }

  /** {@linkcode CapsuleClient.close}, for `await using`. */
  [Symbol.asyncDispose](): Promise<void> {
    return this.close();
  }

  /** Opens a session channel and starts `what` on it; tracks it until it closes. */
  #start(
    what: string,
    open: (done: (error: Error | undefined, channel: ClientChannel) => void) => void,
  ): Promise<ClientChannel> {
    this.#live();
    return new Promise((resolve, reject) => {
      open((error, channel) => {
        if (error) return reject(channelError(what, error));
        this.#open.add(channel);
        channel.once("close", () => this.#open.delete(channel));
        resolve(channel);
      });
    });
  }

  #live(): void {
    if (this.#gone || this.#closing) {
      throw new ClientError("CLIENT_CLOSED", `The client of "${this.user}" is closed`);
    }
  }
}

function ptyOf(pty: PtyOptions): PseudoTtyOptions {
  return { cols: pty.cols ?? 80, rows: pty.rows ?? 24, term: pty.term ?? "xterm-256color" };
}

function channelError(what: string, error: Error): ClientError {
  return new ClientError("CHANNEL_FAILED", `Cannot start ${what}: ${error.message}`, {
    cause: error,
  });
}

function joined(chunks: Buffer[]): Uint8Array {
  // A copy: small Buffers share Node's pool.
  return new Uint8Array(Buffer.concat(chunks));
}
