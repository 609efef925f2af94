/**
 * capsule's relay (`tools/relay/capsule-relay.c`) run on the host, spoken to
 * with the frames of `src/forward/relay_frames.ts`: the test plays capsule.
 */
import assert from "node:assert/strict";
import {
  encodeRelayFrame,
  type RelayFrame,
  RelayFrameDecoder,
  type RelayFrameType,
} from "../../src/forward/relay_frames.ts";
import { findTools } from "../../src/tools/mod.ts";

/** The relay's window per direction of a connection (`WINDOW` in the C file). */
export const WINDOW = 256 * 1024;

/** The built relay for the current source; fails (never skips) when there is none. */
export async function relayBinary(): Promise<string> {
  const tools = await findTools();
  const relay = tools?.files.find((file) => file.name === "capsule-relay");
  assert.ok(relay, "no capsule-relay build: run scripts/build-tools.sh");
  return relay.path;
}

/** Rejects with `what` if `promise` has not settled within `ms`. */
export async function within<T>(promise: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`timed out after ${ms} ms: ${what}`)), ms);
  });
  try {
    return await Promise.race([promise, timeout]);
  } finally {
    clearTimeout(timer);
  }
}

/** Resolves after `ms`. */
export function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

/** How the relay ended. */
export interface RelayExit {
  code: number;
  stderr: string;
}

/**
 * One relay process. Frames it sends are queued for {@linkcode next}, or
 * handed to {@linkcode handler} when one is set.
 */
export class RelayProcess implements AsyncDisposable {
  readonly #child: Deno.ChildProcess;
  readonly #stdin: WritableStreamDefaultWriter<Uint8Array>;
  readonly #decoder = new RelayFrameDecoder();
  readonly #queue: RelayFrame[] = [];
  #wake: (() => void) | undefined;
  #sending: Promise<void> = Promise.resolve();
  #stdinClosed = false;
  /** Every frame's type and id, in order (a log for assertions on ordering). */
  readonly log: string[] = [];
  /** Set: receives every frame instead of the queue. */
  handler: ((frame: RelayFrame) => void) | undefined;
  /** Resolves when stdout ended; rejects if it was not frames. */
  readonly stdoutDone: Promise<void>;
  readonly #stderr: Promise<string>;
  #ended = false;

  constructor(binary: string, args: string[]) {
    this.#child = new Deno.Command(binary, {
      args,
      stdin: "piped",
      stdout: "piped",
      stderr: "piped",
    }).spawn();
    this.#stdin = this.#child.stdin.getWriter();
    this.stdoutDone = this.#read();
    this.#stderr = new Response(this.#child.stderr).text();
  }

  /** Starts the relay with `args` (e.g. `["tcp", "127.0.0.1", "0"]`). */
  static async start(...args: string[]): Promise<RelayProcess> {
    return new RelayProcess(await relayBinary(), args);
  }

  /** The process id (for /proc). */
  get pid(): number {
    return this.#child.pid;
  }

  async #read(): Promise<void> {
    try {
      for await (const chunk of this.#child.stdout) {
        for (const frame of this.#decoder.push(chunk)) {
          this.log.push(`${frame.type}${frame.id}`);
          if (this.handler) this.handler(frame);
          else this.#queue.push(frame);
          this.#wake?.();
        }
      }
      assert.equal(this.#decoder.pendingBytes, 0, "the relay's stdout ended inside a frame");
    } finally {
      this.#ended = true;
      this.#wake?.();
    }
  }

  /** The next frame (optionally the next one matching `match`, others staying queued). */
  async next(
    match: (frame: RelayFrame) => boolean = () => true,
    timeoutMs = 10_000,
  ): Promise<RelayFrame> {
    const deadline = Date.now() + timeoutMs;
    while (true) {
      const at = this.#queue.findIndex(match);
      if (at >= 0) return this.#queue.splice(at, 1)[0]!;
      if (this.#ended) throw new Error(`the relay's stdout ended; queued: ${this.#types()}`);
      const left = deadline - Date.now();
      if (left <= 0) throw new Error(`no such frame from the relay; queued: ${this.#types()}`);
      await within(new Promise<void>((r) => (this.#wake = r)), left, "a frame from the relay")
        .catch(() => {});
      this.#wake = undefined;
    }
  }

  /** The next frame, which must be of `type` (and `id`). */
  async expect(type: RelayFrameType, id?: number, timeoutMs?: number): Promise<RelayFrame> {
    const frame = await this.next(undefined, timeoutMs);
    assert.equal(frame.type, type, `expected ${type}, got ${frame.type}${frame.id}`);
    if (id !== undefined) assert.equal(frame.id, id, `${type} for the wrong connection`);
    return frame;
  }

  /** Frames received and not taken yet. */
  get queued(): readonly RelayFrame[] {
    return this.#queue;
  }

  #types(): string {
    return this.#queue.map((frame) => `${frame.type}${frame.id}`).join(" ") || "none";
  }

  /** Sends one frame, after those sent before it. */
  send(type: RelayFrameType, id: number, payload?: Uint8Array): Promise<void> {
    return this.write(encodeRelayFrame(type, id, payload));
  }

  /** Writes raw bytes to the relay's stdin, after what was written before. */
  write(bytes: Uint8Array): Promise<void> {
    const sent = this.#sending.then(() => this.#stdin.write(bytes));
    this.#sending = sent.catch(() => {});
    return sent;
  }

  /** EOF on the relay's stdin: it must close everything and exit 0. */
  async closeStdin(): Promise<void> {
    if (this.#stdinClosed) return;
    this.#stdinClosed = true;
    await this.#sending;
    await this.#stdin.close().catch(() => {});
  }

  /** Waits for the relay to exit on its own. */
  async exit(timeoutMs = 10_000): Promise<RelayExit> {
    const status = await within(this.#child.status, timeoutMs, "the relay to exit");
    await within(this.stdoutDone, timeoutMs, "the relay's stdout to end");
    return { code: status.code, stderr: await this.#stderr };
  }

  /** Closes stdin and waits for the exit. */
  async stop(timeoutMs = 10_000): Promise<RelayExit> {
    await this.closeStdin();
    return await this.exit(timeoutMs);
  }

  async [Symbol.asyncDispose](): Promise<void> {
    try {
      this.#child.kill("SIGKILL");
    } catch {
      // Already gone.
    }
    this.#stdinClosed = true;
    await this.#stdin.abort().catch(() => {});
    await this.#child.status;
    await this.stdoutDone.catch(() => {});
    await this.#stderr.catch(() => {});
  }
}
