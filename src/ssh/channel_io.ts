// @ts-types="@types/ssh2"
import type { ServerChannel } from "ssh2";
import type { Readable } from "node:stream";
import type { SessionChannel } from "../session/mod.ts";
import type { ExitStatus } from "../session/mod.ts";

/** Fields of ssh2's server channel that hold a write stalled on the window. */
interface StalledWrite {
  _chunk?: unknown;
  _chunkcb?: unknown;
  _chunkErr?: unknown;
  _chunkcbErr?: unknown;
}

/** Thrown by writes after the channel closed. */
export class ChannelClosedError extends Error {
  constructor() {
    super("SSH channel closed");
    this.name = "ChannelClosedError";
  }
}

/**
 * Reads a Node stream chunk by chunk without destroying it when the consumer
 * stops early (Node's own async iterator destroys the stream on `return`,
 * which would close the SSH channel before its exit status is sent).
 */
export async function* readChunks(stream: Readable): AsyncGenerator<Uint8Array> {
  while (true) {
    const chunk = stream.read() as Uint8Array | null;
    if (chunk !== null) {
      yield chunk;
      continue;
    }
    if (stream.readableEnded || stream.destroyed) return;
    const ended = await new Promise<boolean>((resolve) => {
      const onReadable = () => finish(false);
      const onEnd = () => finish(true);
      const finish = (value: boolean) => {
        stream.off("readable", onReadable);
        stream.off("end", onEnd);
        stream.off("close", onEnd);
        resolve(value);
      };
      stream.on("readable", onReadable);
      stream.on("end", onEnd);
      stream.on("close", onEnd);
    });
    if (ended && stream.readableLength === 0) return;
  }
}

/**
 * {@linkcode SessionChannel} over an ssh2 server channel.
 *
 * ssh2 keeps one stalled write per channel for stdout and one for stderr but
 * resumes them from one shared flag, so interleaved writes can stall for good
 * or be sent twice once the client's window runs out. This adapter keeps
 * exactly one write in flight across both streams, waits for its callback,
 * and clears ssh2's stalled-write fields after each write so a stale chunk
 * can never be resent.
 */
export class ChannelIO implements SessionChannel {
  readonly stdin: AsyncIterable<Uint8Array>;
  readonly #channel: ServerChannel;
  #tail: Promise<void> = Promise.resolve();
  #closed = false;
  #rejectPending: ((error: Error) => void) | undefined;

  /** @param channel the channel ssh2 returned when the shell or exec was accepted */
  constructor(channel: ServerChannel) {
    this.#channel = channel;
    this.stdin = readChunks(channel);
  }

  write(stream: "stdout" | "stderr", data: Uint8Array): Promise<void> {
    const next = this.#tail.then(() => this.#writeOne(stream, data));
    this.#tail = next.catch(() => {});
    return next;
  }

  #writeOne(stream: "stdout" | "stderr", data: Uint8Array): Promise<void> {
    if (this.#closed) return Promise.reject(new ChannelClosedError());
    return new Promise<void>((resolve, reject) => {
      this.#rejectPending = reject;
      const done = (error?: Error | null) => {
        this.#rejectPending = undefined;
        const stalled = this.#channel as unknown as StalledWrite;
        stalled._chunk =
          stalled._chunkcb =
          stalled._chunkErr =
          stalled._chunkcbErr =
            undefined;
        if (error) reject(error);
        else resolve();
      };
      const target = stream === "stderr" ? this.#channel.stderr : this.#channel;
      target.write(data, done);
    });
  }

  finish(status: ExitStatus): Promise<void> {
    if (this.#closed) return Promise.resolve();
    return this.#tail.then(async () => {
      if (this.#closed) return;
      const channel = this.#channel;
      if ("code" in status) channel.exit(status.code);
      else channel.exit(status.signal, status.coreDumped ?? false, status.message ?? "");
      // ssh2 sends EOF and CLOSE from the stream's "finish": wait for it, so
      // that whoever ends the connection next cannot overtake them.
      const sent = new Promise<void>((resolve) => {
        channel.once("finish", () => resolve());
        channel.once("close", () => resolve());
      });
      channel.end();
      this.closed();
      await sent;
    });
  }

  /** Marks the channel closed: pending and later writes reject. */
  closed(): void {
    if (this.#closed) return;
    this.#closed = true;
    this.#rejectPending?.(new ChannelClosedError());
  }
}
