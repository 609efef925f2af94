/** Reads a byte stream one character at a time, across several prompts. */
export class _CharReader {
  readonly #reader: ReadableStreamDefaultReader<Uint8Array>;
  readonly #decoder = new TextDecoder();
  #pending: string[] = [];
  #done = false;

  constructor(stream: ReadableStream<Uint8Array>) {
    this.#reader = stream.getReader();
  }

  /** The next character, or `undefined` at the end of the stream. */
  async next(): Promise<string | undefined> {
    while (this.#pending.length === 0) {
      if (this.#done) return undefined;
      const { value, done } = await this.#reader.read();
      if (done) {
        this.#done = true;
        this.#pending = [...this.#decoder.decode()];
      } else this.#pending = [...this.#decoder.decode(value, { stream: true })];
    }
    return this.#pending.shift();
  }

  /** Reads up to the end of the line (`\n`, `\r\n`) or of the stream; the ending is dropped. */
  async line(): Promise<string | undefined> {
    let text = "";
    for (let char = await this.next(); char !== "\n"; char = await this.next()) {
      if (char === undefined) return text === "" ? undefined : text;
      text += char;
    }
    return text.replace(/\r$/, "");
  }

  /** Gives the stream back without cancelling it. */
  release(): void {
    this.#reader.releaseLock();
  }
}
