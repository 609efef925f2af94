import type { Duplex } from "node:stream";
import type { OutputChunk } from "./container_runtime.ts";
import { demuxDockerStream } from "./demux_docker_stream.ts";

/**
 * The hijacked connection of an attach or an exec: the process's stdin one
 * way, its output (multiplexed without a TTY) the other.
 */
export class AttachedStreams {
  /** The process's output, pulled one chunk at a time. */
  readonly output: AsyncIterable<OutputChunk>;
  readonly #socket: Duplex;

  /**
   * @param socket the hijacked connection
   * @param tty whether the output is one raw TTY stream
   */
  constructor(socket: Duplex, tty: boolean) {
    this.#socket = socket;
    const source = endOnError(socket as AsyncIterable<Uint8Array>);
    this.output = tty ? ttyOutput(source) : demuxDockerStream(source);
  }

  /** Writes to stdin; resolves once the socket can take more. */
  async write(data: Uint8Array): Promise<void> {
    if (this.#socket.writableEnded || this.#socket.destroyed) return;
    if (!this.#socket.write(data)) await drained(this.#socket);
  }

  /** Half-closes: the process reads EOF. */
  end(): void {
    if (!this.#socket.writableEnded && !this.#socket.destroyed) this.#socket.end();
  }

  /** Drops the connection both ways; the output ends. */
  destroy(): void {
    this.#socket.destroy();
  }
}

/** Waits until a Node writable can take more, or fails when it closes first. */
function drained(stream: Duplex): Promise<void> {
  return new Promise((resolve, reject) => {
    const done = () => {
      stream.off("drain", done);
      stream.off("close", closed);
      resolve();
    };
    const closed = () => {
      stream.off("drain", done);
      reject(new Error("Container stdin closed"));
    };
    stream.once("drain", done);
    stream.once("close", closed);
  });
}

/** Ends the iteration quietly when the attach socket fails: `wait()` then tells why. */
async function* endOnError(source: AsyncIterable<Uint8Array>): AsyncGenerator<Uint8Array> {
  try {
    yield* source;
  } catch {
    return;
  }
}

async function* ttyOutput(source: AsyncIterable<Uint8Array>): AsyncGenerator<OutputChunk> {
  for await (const data of source) yield { stream: "stdout", data };
}
