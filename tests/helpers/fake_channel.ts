/** An in-memory SessionChannel for unit tests of the session logic. */
import type { ExitStatus, SessionChannel } from "../../src/session/mod.ts";

/** Records what a session wrote and how it finished; stdin is fed by the test. */
export class FakeChannel implements SessionChannel {
  stdout = "";
  stderr = "";
  writes: { stream: "stdout" | "stderr"; text: string }[] = [];
  status: ExitStatus | undefined;
  closed = false;
  readonly finished: Promise<ExitStatus>;
  #finish!: (status: ExitStatus) => void;
  #stdin: Uint8Array[] = [];
  #stdinEnded = false;
  #wake: (() => void) | undefined;

  constructor() {
    this.finished = new Promise((resolve) => (this.#finish = resolve));
  }

  /** Feeds client bytes. */
  send(text: string): void {
    this.#stdin.push(new TextEncoder().encode(text));
    this.#wake?.();
  }

  /** Client EOF. */
  eof(): void {
    this.#stdinEnded = true;
    this.#wake?.();
  }

  get stdin(): AsyncIterable<Uint8Array> {
    return { [Symbol.asyncIterator]: () => this.#readStdin() };
  }

  async *#readStdin(): AsyncGenerator<Uint8Array> {
    while (true) {
      const chunk = this.#stdin.shift();
      if (chunk) {
        yield chunk;
        continue;
      }
      if (this.#stdinEnded || this.closed) return;
      await new Promise<void>((r) => (this.#wake = r));
    }
  }

  write(stream: "stdout" | "stderr", data: Uint8Array): Promise<void> {
    if (this.closed) return Promise.reject(new Error("closed"));
    const text = new TextDecoder().decode(data);
    this.writes.push({ stream, text });
    if (stream === "stdout") this.stdout += text;
    else this.stderr += text;
    return Promise.resolve();
  }

  finish(status: ExitStatus): Promise<void> {
    this.status = status;
    this.#finish(status);
    return Promise.resolve();
  }

  /** The client closed the channel. */
  close(): void {
    this.closed = true;
    this.#wake?.();
  }
}
