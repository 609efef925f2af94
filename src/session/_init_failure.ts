import type { OutputChunk } from "../runtime/mod.ts";

/** How a container's init reports a command it cannot run: its line, and the code it exits with. */
interface InitFailureLine {
  prefix: string;
  /** The whole line; its group is the reason. */
  line: RegExp;
  exitCode: number;
}

const INIT_FAILURE_LINES: InitFailureLine[] = [
  // docker-init (tini), Docker's: "[FATAL tini (7)] exec /bin/zsh failed: No such file or directory".
  {
    prefix: "[FATAL tini (",
    line: /^\[FATAL tini \(\d+\)\] exec .* failed: (.*?)\r?\n?$/,
    exitCode: 127,
  },
  // catatonit, Podman's: "ERROR (catatonit:6): failed to exec pid1: No such file or directory".
  {
    prefix: "ERROR (catatonit:",
    line: /^ERROR \(catatonit:\d+\): failed to exec pid1: (.*?)\r?\n?$/,
    exitCode: 1,
  },
];
const MAX_PROBE = 1024;

/**
 * Watches the start of a process's output for the engine init's "exec
 * failed" line (docker-init's or Podman's catatonit). The line may arrive
 * split across reads, so output that could still be that line is held back
 * until a newline decides; anything else passes through untouched.
 * `failure` holds the reason once seen, and the line itself is swallowed.
 */
export class InitFailureProbe {
  failure: string | undefined;
  /** The code the init that reported `failure` exits with. */
  #exitCode: number | undefined;

  /** Whether the process exited with `code` because its init could not run the command. */
  explains(code: number): boolean {
    return this.failure !== undefined && code === this.#exitCode;
  }

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
        INIT_FAILURE_LINES.some(({ prefix }) => prefix.startsWith(text) || text.startsWith(prefix));
      if (undecided) continue;
      if (!this.#matched(text)) yield* held;
      held = undefined;
    }
    if (held !== undefined && !this.#matched(text)) yield* held;
  }

  /** Records the failure if `text` is an init's line. */
  #matched(text: string): boolean {
    for (const { line, exitCode } of INIT_FAILURE_LINES) {
      const match = line.exec(text);
      if (!match) continue;
      this.failure = match[1] ?? "";
      this.#exitCode = exitCode;
      return true;
    }
    return false;
  }
}
