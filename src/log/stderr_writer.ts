import { Buffer } from "node:buffer";

/** The most bytes of log lines that may wait behind the write in flight. */
export const MAX_QUEUED_BYTES = 4 * 1024 * 1024;

/** What {@linkcode StderrWriter} writes to: `Deno.stderr`, or a test's stand-in. */
export interface LogOutput {
  write(bytes: Uint8Array): Promise<number>;
  writeSync(bytes: Uint8Array): number;
}

/**
 * Writes log lines to standard error without ever blocking the event loop.
 *
 * A synchronous write blocks the whole process while the reader of
 * standard error does not read (a busy journald, a stopped pager, a full
 * pipe): every connection then stalls, keystrokes and logins included. Here
 * lines are queued and written by asynchronous writes, several lines at a
 * time; past {@linkcode MAX_QUEUED_BYTES} waiting, lines are dropped and
 * counted, and once the queue has drained one line says how many
 * (`onDropped`). {@linkcode flushSync} writes what is left before the process
 * exits.
 */
export class StderrWriter {
  readonly #out: LogOutput;
  readonly #limit: number;
  readonly #onDropped: (count: number) => Uint8Array;
  #queue: Uint8Array[] = [];
  #queued = 0;
  #dropped = 0;
  #writing = false;
  #broken = false;
  #idle: PromiseWithResolvers<void> | undefined;

  /**
   * @param onDropped the line that reports `count` dropped lines
   * @param out where lines go (default: standard error)
   * @param limit bytes that may wait behind the write in flight (default: {@linkcode MAX_QUEUED_BYTES})
   */
  constructor(
    onDropped: (count: number) => Uint8Array,
    out: LogOutput = Deno.stderr,
    limit = MAX_QUEUED_BYTES,
  ) {
    this.#onDropped = onDropped;
    this.#out = out;
    this.#limit = limit;
  }

  /** Lines dropped so far because too many were waiting. */
  get dropped(): number {
    return this.#dropped;
  }

  /** Queues one line; it is written after every line before it. */
  write(line: Uint8Array): void {
    if (this.#broken) return;
    if (this.#queued + line.length > this.#limit) {
      this.#dropped++;
      return;
    }
    this.#queue.push(line);
    this.#queued += line.length;
    if (!this.#writing) void this.#drain();
  }

  /**
   * Resolves once every line queued so far is written, or after `timeoutMs`
   * (a reader that never reads must not keep the process from exiting).
   */
  async drained(timeoutMs: number): Promise<void> {
    if (!this.#writing) return;
    this.#idle ??= Promise.withResolvers<void>();
    let timer: ReturnType<typeof setTimeout> | undefined;
    await Promise.race([
      this.#idle.promise,
      new Promise<void>((resolve) => timer = setTimeout(resolve, timeoutMs)),
    ]);
    clearTimeout(timer);
  }

  /**
   * Writes every waiting line now, blocking: the last resort when the
   * process ends without {@linkcode drained} (lines in an asynchronous write
   * at that moment may be lost: the two cannot share standard error).
   */
  flushSync(): void {
    if (this.#writing) return;
    const waiting = this.#take();
    if (this.#broken || waiting.length === 0) return;
    try {
      let written = 0;
      while (written < waiting.length) written += this.#out.writeSync(waiting.subarray(written));
    } catch {
      this.#broken = true;
    }
  }

  async #drain(): Promise<void> {
    this.#writing = true;
    try {
      while (this.#queue.length > 0) {
        const batch = this.#take();
        let written = 0;
        while (written < batch.length) written += await this.#out.write(batch.subarray(written));
        if (this.#queue.length === 0 && this.#dropped > 0) {
          const notice = this.#onDropped(this.#dropped);
          this.#dropped = 0;
          this.#queue.push(notice);
          this.#queued += notice.length;
        }
      }
    } catch {
      // Standard error is gone: nothing more can be said there.
      this.#broken = true;
      this.#queue = [];
      this.#queued = 0;
    } finally {
      this.#writing = false;
      this.#idle?.resolve();
      this.#idle = undefined;
    }
  }

  /** Every waiting line, joined, and the queue emptied. */
  #take(): Uint8Array {
    const lines = this.#queue;
    this.#queue = [];
    this.#queued = 0;
    return lines.length === 1 ? lines[0]! : Buffer.concat(lines);
  }
}
