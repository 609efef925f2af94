import { Buffer } from "node:buffer";
// @ts-types="@types/ssh2"
import type { ClientChannel } from "ssh2";
import { ClientError } from "./client_error.ts";
import { channelOutput } from "./_channel_output.ts";
import { exitOf, type ExitStatus } from "./_exit_of.ts";

/** A terminal's size and type. */
export interface PtyOptions {
  /** Columns (default 80). */
  cols?: number;
  /** Rows (default 24). */
  rows?: number;
  /** `TERM` (default `xterm-256color`). */
  term?: string;
}

/** Signal names a client may send (RFC 4254 6.10), without `SIG`. */
const SIGNALS = new Set([
  "ABRT",
  "ALRM",
  "FPE",
  "HUP",
  "ILL",
  "INT",
  "KILL",
  "PIPE",
  "QUIT",
  "SEGV",
  "TERM",
  "USR1",
  "USR2",
]);

/**
 * A shell session of an in-process client ({@linkcode CapsuleClient.shell}):
 * its input, its output, the terminal's size, signals, and how it ended.
 *
 * @example
 * ```ts
 * const shell = await client.shell({ pty: { cols: 100, rows: 30 } });
 * const input = shell.stdin.getWriter();
 * await input.write(new TextEncoder().encode("stty size; exit 7\n"));
 * await shell.resize(120, 40);
 * const { status } = await shell.wait(); // 7
 * ```
 */
export class ShellSession {
  /** What the shell reads; closing it sends end-of-file. */
  readonly stdin: WritableStream<Uint8Array>;
  /**
   * What the shell writes, standard error interleaved as it arrives (a
   * terminal has only the one stream anyway); ends when the channel closes.
   */
  readonly output: ReadableStream<Uint8Array>;
  readonly #channel: ClientChannel;
  readonly #exit: Promise<ExitStatus>;
  #closed = false;

  /** @param channel the started shell channel, which this object now owns */
  constructor(channel: ClientChannel) {
    this.#channel = channel;
    this.#exit = exitOf(channel);
    void this.#exit.then(() => (this.#closed = true));
    this.stdin = new WritableStream<Uint8Array>({
      write: (chunk) =>
        new Promise<void>((resolve, reject) => {
          if (this.#closed) return reject(closedError());
          channel.write(Buffer.from(chunk), (error?: Error | null) =>
            error ? reject(error) : resolve());
        }),
      close: () => {
        if (!this.#closed) channel.end();
      },
      abort: () => {
        if (!this.#closed) channel.end();
      },
    });
    this.output = channelOutput(channel);
  }

  /**
   * Tells the shell its terminal now has `cols` columns and `rows` rows
   * (`SIGWINCH` in the container).
   *
   * @throws {RangeError} for a size that is not a positive integer
   */
  resize(cols: number, rows: number): void {
    for (const n of [cols, rows]) {
      if (!Number.isInteger(n) || n < 1 || n > 0xffff) {
        throw new RangeError(`A terminal size must be an integer from 1 to 65535: got ${n}`);
      }
    }
    this.#live();
    this.#channel.setWindow(rows, cols, 0, 0);
  }

  /**
   * Sends a signal to the shell's process (`INT`, `TERM`, `KILL`...; `SIG`
   * may be left on).
   *
   * @throws {RangeError} for a signal SSH has no name for
   */
  signal(name: string): void {
    const bare = name.replace(/^SIG/, "");
    if (!SIGNALS.has(bare)) throw new RangeError(`Unknown signal "${name}"`);
    this.#live();
    // ssh2's typings want the SIG-less union; the set above checked it.
    this.#channel.signal(bare as Parameters<ClientChannel["signal"]>[0]);
  }

  /** Resolves with the exit status (or the signal) once the shell has ended. */
  wait(): Promise<ExitStatus> {
    return this.#exit;
  }

  /**
   * Leaves the shell without waiting for it: the channel is closed, and
   * capsule ends the session as when an SSH client goes away (the container
   * follows its lifecycle: gone in `session` mode, kept in `persistent`).
   *
   * @returns how the shell ended, once the channel has closed
   */
  detach(): Promise<ExitStatus> {
    if (!this.#closed) this.#channel.close();
    return this.#exit;
  }

  /** {@linkcode ShellSession.detach}, for `await using`. */
  async [Symbol.asyncDispose](): Promise<void> {
    await this.detach();
  }

  #live(): void {
    if (this.#closed) throw closedError();
  }
}

function closedError(): ClientError {
  return new ClientError("CLIENT_CLOSED", "The shell has ended");
}
