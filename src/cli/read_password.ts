import { _CharReader } from "./_char_reader.ts";
import type { CliStdin, TextWriter } from "./cli_deps.ts";

/** The person pressed Ctrl-C at a password prompt. */
export class InterruptedError extends Error {
  constructor() {
    super("Interrupted");
    this.name = "InterruptedError";
  }
}

/**
 * Reads a password. On a terminal it prompts on `stderr` without echo and,
 * when `confirm` is set, asks again and compares; otherwise it reads the first
 * line of `stdin`.
 *
 * @returns the password, `""` when none was given
 * @throws {Error} when the two entries differ
 * @throws {InterruptedError} on Ctrl-C
 */
export async function readPassword(
  stdin: CliStdin,
  stderr: TextWriter,
  options: { confirm?: boolean } = {},
): Promise<string> {
  const reader = new _CharReader(stdin.readable);
  try {
    if (!stdin.isTerminal()) return (await reader.line()) ?? "";
    stdin.setRaw(true);
    try {
      const password = await prompt(reader, stderr, "Password: ");
      if (options.confirm && password !== "") {
        const again = await prompt(reader, stderr, "Repeat password: ");
        if (again !== password) throw new Error("Cannot hash password: the passwords do not match");
      }
      return password;
    } finally {
      stdin.setRaw(false);
    }
  } finally {
    reader.release();
  }
}

/** Reads one line in raw mode, handling Enter, Backspace, Ctrl-U, Ctrl-C and Ctrl-D. */
async function prompt(reader: _CharReader, stderr: TextWriter, label: string): Promise<string> {
  stderr(label);
  const chars: string[] = [];
  try {
    for (;;) {
      const char = await reader.next();
      if (char === undefined || char === "\r" || char === "\n") break;
      if (char === "\x03") throw new InterruptedError();
      if (char === "\x04") {
        if (chars.length === 0) break;
        continue;
      }
      if (char === "\x7f" || char === "\b") chars.pop();
      else if (char === "\x15") chars.length = 0;
      else if (char >= " ") chars.push(char);
    }
  } finally {
    stderr("\n");
  }
  return chars.join("");
}
