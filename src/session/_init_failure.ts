import type { OutputChunk } from "../runtime/mod.ts";

// docker-init (tini) reports a command it cannot run with this line and exit code 127.
const PREFIX = "[FATAL tini (";
const LINE = /^\[FATAL tini \(\d+\)\] exec (.*) failed: (.*?)\r?\n?$/;
const MAX_PROBE = 1024;

/**
 * Watches the start of a process's output for the engine init's "exec
 * failed" line. The line may arrive split across reads, so output that could
 * still be that line is held back until a newline decides; anything else
 * passes through untouched. `failure` holds the reason once seen, and the
 * line itself is swallowed.
 */
export class InitFailureProbe {
  failure: string | undefined;

  /** Wraps `output`, holding back only what could be the init's line. */
  async *watch(output: AsyncIterable<OutputChunk>): AsyncGenerator<OutputChunk> {
    const decoder = new TextDecoder();
    let held: OutputChunk[] | undefined = [];
    let text = "";
    for await (const chunk of output) {
      if (held === undefined) {
        yield chunk;
        continue;
      }
      held.push(chunk);
      text += decoder.decode(chunk.data, { stream: true });
      const undecided = !text.includes("\n") && text.length < MAX_PROBE &&
        (PREFIX.startsWith(text) || text.startsWith(PREFIX));
      if (undecided) continue;
      const match = LINE.exec(text);
      if (match) this.failure = match[2] ?? "";
      else yield* held;
      held = undefined;
    }
    if (held !== undefined) {
      const match = LINE.exec(text);
      if (match) this.failure = match[2] ?? "";
      else yield* held;
    }
  }
}
