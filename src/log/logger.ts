import { StderrWriter } from "./stderr_writer.ts";

/** Severity of a log event, lowest first. */
export type LogLevel = "debug" | "info" | "warn" | "error";

/** How log lines are written: JSON lines, readable text, or text on a terminal and JSON elsewhere. */
export type LogFormat = "json" | "text" | "auto";

/** Values a log field may carry. */
export type LogValue = string | number | boolean | null | undefined | readonly string[];

/** Fields of a log event. */
export type LogFields = Record<string, LogValue>;

/** One structured log event as written. */
export interface LogRecord {
  ts: string;
  level: LogLevel;
  event: string;
  [field: string]: LogValue;
}

/** Where finished records go. */
export type LogSink = (record: LogRecord) => void;

const LEVEL_ORDER: Record<LogLevel, number> = { debug: 10, info: 20, warn: 30, error: 40 };

/** Options of {@linkcode createLogger}. */
export interface LoggerOptions {
  /** Lowest level written (default `info`). */
  level?: LogLevel;
  /** Output format (default `auto`). Ignored when `sink` is given. */
  format?: LogFormat;
  /** Custom sink, e.g. for tests. */
  sink?: LogSink;
}

/**
 * A structured logger. Each call writes one event with fields; `child` returns a
 * logger that adds its fields to every event (connection, session, user).
 */
export class Logger {
  readonly #levelName: LogLevel;
  readonly #level: number;
  readonly #sink: LogSink;
  readonly #fields: LogFields;

  /** Use {@linkcode createLogger}. */
  constructor(level: LogLevel, sink: LogSink, fields: LogFields = {}) {
    this.#levelName = level;
    this.#level = LEVEL_ORDER[level];
    this.#sink = sink;
    this.#fields = fields;
  }

  /** A logger that adds `fields` to every event it writes. */
  child(fields: LogFields): Logger {
    const level =
      (Object.keys(LEVEL_ORDER) as LogLevel[]).find((l) => LEVEL_ORDER[l] === this.#level) ??
        "info";
    return new Logger(level, this.#sink, { ...this.#fields, ...fields });
  }

  /** Writes a debug event. */
  debug(event: string, fields: LogFields = {}): void {
    this.#write("debug", event, fields);
  }
  /** Writes an info event. */
  info(event: string, fields: LogFields = {}): void {
    this.#write("info", event, fields);
  }
  /** Writes a warning event. */
  warn(event: string, fields: LogFields = {}): void {
    this.#write("warn", event, fields);
  }
  /** Writes an error event. */
  error(event: string, fields: LogFields = {}): void {
    this.#write("error", event, fields);
  }

  #write(level: LogLevel, event: string, fields: LogFields): void {
    if (LEVEL_ORDER[level] < this.#level) return;
    const record: LogRecord = { ts: new Date().toISOString(), level, event };
    for (const [key, value] of Object.entries({ ...this.#fields, ...fields })) {
      if (value !== undefined) record[key] = value;
    }
    try {
      this.#sink(record);
    } catch {
      // A broken log sink must never take a session down.
    }
  }
}

const encoder = new TextEncoder();

/** Renders a record as one JSON line; JSON escapes control characters. */
export function formatJson(record: LogRecord): string {
  return JSON.stringify(record) + "\n";
}

/** Escapes control characters so that a peer-supplied value cannot forge log lines. */
export function escapeControl(text: string): string {
  // deno-lint-ignore no-control-regex
  return text.replace(/[\u0000-\u001f\u007f-\u009f]/g, (c) => {
    const code = c.charCodeAt(0);
    return code < 0x100 ? `\\x${code.toString(16).padStart(2, "0")}` : c;
  });
}

/** Renders a record as one readable line: time, level, event, then `key=value` pairs. */
export function formatText(record: LogRecord): string {
  const { ts, level, event, ...fields } = record;
  const parts = [ts.slice(11, 23), level.toUpperCase().padEnd(5), event];
  for (const [key, value] of Object.entries(fields)) {
    const text = Array.isArray(value) ? value.join(",") : String(value);
    const safe = escapeControl(text);
    parts.push(`${key}=${/[\s"=]/.test(safe) || safe === "" ? JSON.stringify(safe) : safe}`);
  }
  return parts.join(" ") + "\n";
}

/**
 * Creates the process logger. Only this module writes to the console.
 *
 * @example
 * ```ts
 * const log = createLogger({ level: "info" });
 * log.child({ connection: "c1" }).info("auth.accepted", { user: "alice" });
 * ```
 */
export function createLogger(options: LoggerOptions = {}): Logger {
  const level = options.level ?? "info";
  if (options.sink) return new Logger(level, options.sink);
  const format = options.format ?? "auto";
  const text = format === "text" || (format === "auto" && Deno.stderr.isTerminal());
  const render = text ? formatText : formatJson;
  const writer = new StderrWriter((count) =>
    encoder.encode(render({
      ts: new Date().toISOString(),
      level: "warn",
      event: "log.dropped",
      lines: count,
      reason: "standard error did not take the log fast enough",
    }))
  );
  writers.add(writer);
  return new Logger(level, (record) => writer.write(encoder.encode(render(record))));
}

/** Every standard-error writer made by {@linkcode createLogger}, flushed before exit. */
const writers = new Set<StderrWriter>();

/**
 * Waits until every log line queued so far is on standard error, for at
 * most `timeoutMs`: await it right before `Deno.exit()`.
 */
export async function flushLogs(timeoutMs = 2_000): Promise<void> {
  await Promise.all([...writers].map((writer) => writer.drained(timeoutMs)));
}

// A process that ends by itself, without flushLogs(): what is not being written yet still is.
globalThis.addEventListener("unload", () => {
  for (const writer of writers) writer.flushSync();
});

/** A logger that drops everything (for unit tests and library use). */
export function silentLogger(): Logger {
  return new Logger("error", () => {});
}
