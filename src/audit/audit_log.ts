import { dirname } from "node:path";
import { describeError } from "../errors/mod.ts";
import type { Logger } from "../log/mod.ts";
import type { AuditEventName, AuditFields, AuditRecorder } from "./audit_event.ts";

/** The version of the audit envelope (`v`); raised when a field changes meaning. */
export const AUDIT_VERSION = 1;

/** Where audit lines are written: the file, or a stand-in in tests. */
export interface AuditFile {
  /** Writes some of `data`; resolves with how many bytes were written. */
  write(data: Uint8Array): Promise<number>;
  close(): void;
}

/** Options of {@linkcode AuditLog}. */
export interface AuditLogOptions {
  /** The operator's log: one warning when lines start being dropped. */
  logger: Logger;
  /** Opens (and on {@linkcode AuditLog.reopen}, reopens) the file. */
  open: () => Promise<AuditFile>;
  /** Most lines waiting to be written; past it new lines are dropped (default 10 000). */
  maxQueue?: number;
}

/**
 * Opens `path` for appending with mode 0600 (made so if it existed with a
 * wider one), creating its directory.
 */
export async function openAuditFile(path: string): Promise<AuditFile> {
  await Deno.mkdir(dirname(path), { recursive: true, mode: 0o700 });
  const file = await Deno.open(path, { append: true, create: true, mode: 0o600 });
  try {
    await Deno.chmod(path, 0o600);
  } catch (error) {
    file.close();
    throw error;
  }
  return file;
}

const encoder = new TextEncoder();

/**
 * The audit log: one versioned JSON object per line (`v`, `ts`, `event`,
 * `seq`, `connection`, `user`, `remote`, then the event's fields), appended
 * to a file of its own (`null` for what is not known). `record` never waits: lines go into a bounded queue
 * that one writer drains; when the disk is slow or full, lines past the
 * bound are dropped and counted, with one warning in the operator's log per
 * episode.
 *
 * @example
 * ```ts
 * const audit = new AuditLog({ logger, open: () => openAuditFile(".capsule/audit.log") });
 * audit.record("connection.open", { connection: "c1", remote: "127.0.0.1:5022" });
 * await audit.close();
 * ```
 */
export class AuditLog implements AuditRecorder {
  readonly #options: AuditLogOptions;
  readonly #maxQueue: number;
  readonly #queue: string[] = [];
  /** What is known of each open connection, for the envelope of later events. */
  readonly #connections = new Map<string, { remote?: string; user?: string }>();
  #seq = 0;
  #dropped = 0;
  #dropping = false;
  #file: AuditFile | undefined;
  #reopen = false;
  /** The last write failed, maybe halfway through a line. */
  #torn = false;
  #closed = false;
  #writer: Promise<void> | undefined;

  /** @param options the operator's logger, how to open the file, the queue bound */
  constructor(options: AuditLogOptions) {
    this.#options = options;
    this.#maxQueue = options.maxQueue ?? 10_000;
  }

  /** Lines dropped so far because the queue was full or the file failed. */
  get dropped(): number {
    return this.#dropped;
  }

  /** Queues one event; returns at once. */
  record(event: AuditEventName, fields: AuditFields): void {
    if (this.#closed) return;
    const { connection, user, remote, ...rest } = fields;
    const known = connection !== undefined ? this.#connections.get(connection) : undefined;
    if (event === "connection.open" && connection !== undefined) {
      this.#connections.set(connection, { ...(remote !== undefined ? { remote } : {}) });
    } else if (event === "auth" && known && fields["result"] === "accepted" && user) {
      known.user = user;
    } else if (event === "connection.close" && connection !== undefined) {
      this.#connections.delete(connection);
    }
    const line = JSON.stringify({
      v: AUDIT_VERSION,
      ts: new Date().toISOString(),
      event,
      seq: ++this.#seq,
      // Always present, null when unknown: every line has the same envelope.
      connection: connection ?? null,
      user: user ?? known?.user ?? null,
      remote: remote ?? known?.remote ?? null,
      ...rest,
    }) + "\n";
    if (this.#queue.length >= this.#maxQueue) {
      this.#drop(1, "queue full");
      return;
    }
    this.#queue.push(line);
    this.#writer ??= this.#drain().finally(() => (this.#writer = undefined));
  }

  /** Closes the file and opens it again before the next write (log rotation: SIGHUP). */
  reopen(): void {
    this.#reopen = true;
    if (this.#queue.length > 0) {
      this.#writer ??= this.#drain().finally(() => (this.#writer = undefined));
    }
  }

  /** Writes what is queued, then closes the file; later events are ignored. */
  async close(): Promise<void> {
    this.#closed = true;
    while (this.#writer) await this.#writer;
    this.#file?.close();
    this.#file = undefined;
  }

  async #drain(): Promise<void> {
    while (this.#queue.length > 0) {
      const batch = this.#queue.splice(0, this.#queue.length);
      try {
        const file = await this.#currentFile();
        const bytes = encoder.encode((this.#torn ? "\n" : "") + batch.join(""));
        let written = 0;
        while (written < bytes.length) written += await file.write(bytes.subarray(written));
        this.#torn = false;
        if (this.#dropping) {
          this.#dropping = false;
          this.#options.logger.info("audit.resumed", { dropped: this.#dropped });
        }
      } catch (error) {
        // A line may be half written: the next write starts on a line of its own.
        this.#torn = true;
        this.#file?.close();
        this.#file = undefined;
        this.#drop(batch.length, describeError(error));
      }
    }
  }

  async #currentFile(): Promise<AuditFile> {
    if (this.#reopen) {
      this.#reopen = false;
      this.#file?.close();
      this.#file = undefined;
    }
    return this.#file ??= await this.#options.open();
  }

  #drop(lines: number, reason: string): void {
    this.#dropped += lines;
    if (this.#dropping) return;
    this.#dropping = true;
    this.#options.logger.warn("audit.dropping", { reason, dropped: this.#dropped });
  }
}
