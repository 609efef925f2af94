import type { AuditEventName, AuditFields } from "./audit_event.ts";

/** One SFTP operation as the audit records it. */
export interface SftpOperation {
  event: AuditEventName;
  fields: AuditFields;
}

/** Longest stderr line kept; sftp-server's are short, a longer one is cut. */
const MAX_LINE = 4096;

// OpenSSH's sftp-server at `-l INFO` (sftp-server.c); paths are written
// between quotes without escaping, so each pattern anchors on what follows.
const PATTERNS: [RegExp, (m: RegExpMatchArray) => SftpOperation][] = [
  [/^open "(.*)" flags (\S+) mode (\d+)$/, (m) =>
    op("sftp.open", {
      path: m[1],
      flags: m[2],
      mode: m[3],
    })],
  [/^close "(.*)" bytes read (\d+) written (\d+)$/, (m) =>
    op("sftp.close", {
      path: m[1],
      bytes_read: Number(m[2]),
      bytes_written: Number(m[3]),
    })],
  [/^opendir "(.*)"$/, (m) => op("sftp.opendir", { path: m[1] })],
  [/^remove name "(.*)"$/, (m) => op("sftp.remove", { path: m[1] })],
  [/^(?:posix-)?rename old "(.*)" new "(.*)"$/, (m) =>
    op("sftp.rename", {
      path: m[1],
      new_path: m[2],
    })],
  [/^mkdir name "(.*)" mode (\d+)$/, (m) => op("sftp.mkdir", { path: m[1], mode: m[2] })],
  [/^rmdir name "(.*)"$/, (m) => op("sftp.rmdir", { path: m[1] })],
  [/^set "(.*)" (mode|owner|modtime|size) (.*)$/, (m) =>
    op("sftp.setstat", {
      path: m[1],
      change: `${m[2]} ${m[3]}`,
    })],
  [/^(?:hardlink|symlink) old "(.*)" new "(.*)"$/, (m) =>
    op("sftp.symlink", {
      path: m[2],
      target: m[1],
    })],
  [/^sent status (.*)$/, (m) => op("sftp.error", { status: m[1] })],
];

function op(event: AuditEventName, fields: AuditFields): SftpOperation {
  return { event, fields };
}

/**
 * Parses one line of sftp-server's log (`-e -l INFO`) into an operation, or
 * `undefined` for lines that are no operation (session opened and closed,
 * closedir, anything unknown).
 *
 * @example
 * ```ts
 * parseSftpLine('remove name "/tmp/a"'); // { event: "sftp.remove", fields: { path: "/tmp/a" } }
 * ```
 */
export function parseSftpLine(line: string): SftpOperation | undefined {
  for (const [pattern, make] of PATTERNS) {
    const match = line.match(pattern);
    if (match) return make(match);
  }
  return undefined;
}

/**
 * Splits sftp-server's stderr into lines (across chunks, `\r\n` or `\n`)
 * and hands each operation to `onOperation`.
 */
export class SftpLogParser {
  readonly #onOperation: (operation: SftpOperation) => void;
  readonly #decoder = new TextDecoder();
  #pending = "";

  /** @param onOperation called once per parsed operation, in order */
  constructor(onOperation: (operation: SftpOperation) => void) {
    this.#onOperation = onOperation;
  }

  /** Takes the next chunk of stderr. */
  push(chunk: Uint8Array): void {
    this.#pending += this.#decoder.decode(chunk, { stream: true });
    const lines = this.#pending.split("\n");
    this.#pending = lines.pop() ?? "";
    if (this.#pending.length > MAX_LINE) this.#pending = this.#pending.slice(0, MAX_LINE);
    for (const line of lines) this.#line(line);
  }

  /** The stream ended: a last line without a newline is parsed too. */
  end(): void {
    this.#pending += this.#decoder.decode();
    if (this.#pending !== "") this.#line(this.#pending);
    this.#pending = "";
  }

  #line(raw: string): void {
    const line = raw.replace(/\r$/, "").slice(0, MAX_LINE);
    const operation = parseSftpLine(line);
    if (operation) this.#onOperation(operation);
  }
}
