import { join } from "node:path";

/** Where a recording's lines go: the file, or a stand-in in tests. */
export interface CastFile {
  /** Writes some of `data`; resolves with how many bytes were written. */
  write(data: Uint8Array): Promise<number>;
  close(): void;
}

/** The header of a recording. */
export interface CastHeader {
  cols: number;
  rows: number;
  /** The start, in seconds since the epoch. */
  timestamp: number;
  term: string;
  title?: string;
}

/** Options of {@linkcode AsciicastWriter}. */
export interface AsciicastWriterOptions {
  /** Called once if the recording stops early (disk full or too slow), with why. */
  onStop?: (reason: string) => void;
  /** Most bytes waiting to be written; past it the recording stops (default 8 MiB). */
  maxPending?: number;
  /** Milliseconds since the recording started (for tests; default from performance.now()). */
  now?: () => number;
}

const encoder = new TextEncoder();

/**
 * Opens a new recording file in `dir`, mode 0600, named after the time, the
 * user and the session.
 */
export async function openCastFile(
  dir: string,
  name: { user: string; session: string; started: Date },
): Promise<CastFile> {
  await Deno.mkdir(dir, { recursive: true, mode: 0o700 });
  const stamp = name.started.toISOString().replace(/[:.]/g, "-");
  const user = name.user.replace(/[^A-Za-z0-9_.-]/g, "_");
  const path = join(dir, `${stamp}-${user}-${name.session}.cast`);
  return await Deno.open(path, { createNew: true, write: true, mode: 0o600 });
}

/**
 * Writes one asciicast v2 recording: a header line with the terminal's size,
 * then `[seconds, "o" | "i" | "r", text]` events. Output is decoded as UTF-8
 * across chunks, so a character split between two chunks arrives whole.
 * Writing never waits: lines queue up for one writer, and when the disk
 * fails or falls too far behind, the recording stops (the session does not).
 */
export class AsciicastWriter {
  readonly #file: CastFile;
  readonly #options: AsciicastWriterOptions;
  readonly #maxPending: number;
  readonly #started: number;
  readonly #decoders = { o: new TextDecoder(), i: new TextDecoder() };
  #queue: string[] = [];
  #pending = 0;
  #writer: Promise<void> | undefined;
  #stopped = false;
  #closed = false;

  /**
   * @param file where the lines go
   * @param header the terminal at the start
   */
  constructor(file: CastFile, header: CastHeader, options: AsciicastWriterOptions = {}) {
    this.#file = file;
    this.#options = options;
    this.#maxPending = options.maxPending ?? 8 * 1024 * 1024;
    this.#started = this.#now();
    this.#push(JSON.stringify({
      version: 2,
      width: header.cols,
      height: header.rows,
      timestamp: Math.floor(header.timestamp),
      env: { TERM: header.term },
      ...(header.title !== undefined ? { title: header.title } : {}),
    }));
  }

  /** Whether the recording stopped early. */
  get stopped(): boolean {
    return this.#stopped;
  }

  /** Records output (`o`) or input (`i`) bytes. */
  data(kind: "o" | "i", bytes: Uint8Array): void {
    const text = this.#decoders[kind].decode(bytes, { stream: true });
    if (text !== "") this.#event(kind, text);
  }

  /** Records a resize (`r`). */
  resize(size: { cols: number; rows: number }): void {
    this.#event("r", `${size.cols}x${size.rows}`);
  }

  /** Flushes what the decoders hold, writes what is queued, closes the file. */
  async close(): Promise<void> {
    if (this.#closed) return;
    for (const kind of ["o", "i"] as const) {
      const rest = this.#decoders[kind].decode();
      if (rest !== "") this.#event(kind, rest);
    }
    this.#closed = true;
    while (this.#writer) await this.#writer;
    this.#file.close();
  }

  #now(): number {
    return this.#options.now ? this.#options.now() : performance.now();
  }

  #event(kind: "o" | "i" | "r", text: string): void {
    const seconds = Math.max(0, (this.#now() - this.#started) / 1000);
    this.#push(JSON.stringify([Number(seconds.toFixed(6)), kind, text]));
  }

  #push(line: string): void {
    if (this.#stopped || this.#closed) return;
    this.#pending += line.length + 1;
    if (this.#pending > this.#maxPending) {
      this.#stop("the disk is too slow");
      return;
    }
    this.#queue.push(line + "\n");
    this.#writer ??= this.#drain().finally(() => (this.#writer = undefined));
  }

  async #drain(): Promise<void> {
    while (this.#queue.length > 0 && !this.#stopped) {
      const batch = this.#queue.join("");
      this.#queue = [];
      try {
        const bytes = encoder.encode(batch);
        let written = 0;
        while (written < bytes.length) written += await this.#file.write(bytes.subarray(written));
        this.#pending -= batch.length;
      } catch (error) {
        this.#stop(error instanceof Error ? error.message : String(error));
      }
    }
  }

  #stop(reason: string): void {
    if (this.#stopped) return;
    this.#stopped = true;
    this.#queue = [];
    this.#options.onStop?.(reason);
  }
}
