import { Buffer } from "node:buffer";
import { Duplex } from "node:stream";

/** Options of {@linkcode StreamSocket}. */
export interface StreamSocketOptions {
  /** The client's address, as logs and source-address checks see it (default `unknown`). */
  remoteAddress?: string;
  /** The client's port (default 0). */
  remotePort?: number;
  /** Called once both directions are done with, to close what lies under the streams. */
  onClose?: () => void;
}

/**
 * One SSH connection's bytes over a pair of web streams, shaped as the
 * socket ssh2 expects (a Node duplex with `remoteAddress` and `remotePort`):
 * standard input and output (`serve --stdio`), or any duplex stream a
 * program hands capsule.
 */
export class StreamSocket extends Duplex {
  /** The client's address. */
  readonly remoteAddress: string;
  /** The client's port. */
  readonly remotePort: number;
  /** `IPv4`, `IPv6`, or `unknown` when the address is no IP address. */
  readonly remoteFamily: string;
  readonly #reader: ReadableStreamDefaultReader<Uint8Array>;
  readonly #writer: WritableStreamDefaultWriter<Uint8Array>;
  readonly #onClose: (() => void) | undefined;
  #reading = false;

  /**
   * @param readable the client's bytes
   * @param writable where the server's bytes go
   */
  constructor(
    readable: ReadableStream<Uint8Array>,
    writable: WritableStream<Uint8Array>,
    options: StreamSocketOptions = {},
  ) {
    super({ allowHalfOpen: false });
    this.remoteAddress = options.remoteAddress ?? "unknown";
    this.remotePort = options.remotePort ?? 0;
    this.remoteFamily = /^\d+\.\d+\.\d+\.\d+$/.test(this.remoteAddress)
      ? "IPv4"
      : this.remoteAddress.includes(":")
      ? "IPv6"
      : "unknown";
    this.#reader = readable.getReader();
    this.#writer = writable.getWriter();
    this.#onClose = options.onClose;
  }

  /** Nagle's algorithm is the stream's business: nothing to do (ssh2 may call it). */
  setNoDelay(): this {
    return this;
  }

  override _read(): void {
    if (this.#reading) return;
    this.#reading = true;
    this.#reader.read().then(({ done, value }) => {
      this.#reading = false;
      if (done) this.push(null);
      else if (this.push(Buffer.from(value.buffer, value.byteOffset, value.byteLength))) {
        this._read();
      }
    }, (error) => {
      this.#reading = false;
      this.destroy(error instanceof Error ? error : new Error(String(error)));
    });
  }

  override _write(
    chunk: Uint8Array,
    _encoding: string,
    callback: (error?: Error | null) => void,
  ): void {
    // A copy: ssh2 reuses its buffers once the write callback ran.
    this.#writer.write(new Uint8Array(chunk)).then(() => callback(), (error) => callback(error));
  }

  override _final(callback: (error?: Error | null) => void): void {
    this.#writer.close().then(() => callback(), (error) => callback(error));
  }

  override _destroy(error: Error | null, callback: (error?: Error | null) => void): void {
    this.#reader.cancel().catch(() => {});
    this.#writer.abort().catch(() => {});
    try {
      this.#onClose?.();
    } catch {
      // Already closed.
    }
    callback(error);
  }
}
