import { Duplex } from "node:stream";
import type { EngineTlsMaterial } from "./_engine_tls.ts";

/** Where the hijacked connections reach the engine: its socket, or `tcp://` with or without TLS. */
export type HijackTarget =
  | { kind: "socket"; path: string }
  | { kind: "tcp"; host: string; port: number; tls?: EngineTlsMaterial };

/** The most the engine's answer to an upgrade may hold before its blank line. */
const MAX_HEAD = 64 * 1024;

const encoder = new TextEncoder();
const decoder = new TextDecoder();

/**
 * Opens a hijacked connection (an attach, an exec's start) to the engine
 * with Deno's own sockets, not dockerode's:
 *
 * - the request carries exactly the body given, and none when none is:
 *   dockerode sends an attach's options as a JSON body, which Docker ignores
 *   but Podman passes on to the container's stdin (70 bytes before the
 *   session's own);
 * - over TLS, under Deno 2.9, a `node:tls` socket that was paused for
 *   backpressure can lose the engine's end of stream (dockerd half-closes a
 *   TLS attach with a close_notify, not a FIN), and the output then never
 *   ends.
 *
 * A `Deno.Conn` is read one read at a time when the consumer asks, so
 * backpressure is the reader's pace, and a close_notify is EOF.
 *
 * @param target where the engine listens (and its TLS material)
 * @param request the upgrade's path (query included) and JSON body, if any
 * @returns the connection as a Node duplex, as dockerode's hijack gives it
 * @throws the engine's answer as dockerode's errors carry it (`statusCode`,
 *   `json`) when it does not upgrade; the transport's error when it fails
 */
export async function hijack(
  target: HijackTarget,
  request: { path: string; body?: unknown },
): Promise<Duplex> {
  const conn = await connect(target);
  try {
    const body = request.body === undefined ? "" : JSON.stringify(request.body);
    const host = target.kind === "socket" ? "docker" : `${target.host}:${target.port}`;
    await writeAll(
      conn,
      encoder.encode(
        `POST ${request.path} HTTP/1.1\r\nHost: ${host}\r\n` +
          "Connection: Upgrade\r\nUpgrade: tcp\r\n" +
          (body === "" ? "" : "Content-Type: application/json\r\n") +
          `Content-Length: ${encoder.encode(body).length}\r\n\r\n${body}`,
      ),
    );
    const { status, head, rest } = await readHead(conn);
    if (status !== 101 && status !== 200) throw await refused(conn, status, head, rest);
    return new ConnDuplex(conn, rest);
  } catch (error) {
    closeQuietly(conn);
    throw error;
  }
}

/** A new connection to the engine. */
async function connect(target: HijackTarget): Promise<Deno.Conn> {
  if (target.kind === "socket") return await Deno.connect({ transport: "unix", path: target.path });
  if (!target.tls) {
    const conn = await Deno.connect({ hostname: target.host, port: target.port });
    // Keystrokes go out as they come.
    conn.setNoDelay(true);
    return conn;
  }
  return await Deno.connectTls({
    hostname: target.host,
    port: target.port,
    caCerts: [target.tls.ca],
    cert: target.tls.cert,
    key: target.tls.key,
  });
}

/** A `Deno.Conn` as a Node duplex; reads only when the consumer asks. */
class ConnDuplex extends Duplex {
  readonly #conn: Deno.Conn;
  #first: Uint8Array | undefined;

  constructor(conn: Deno.Conn, first: Uint8Array) {
    // The process's stdin may close while its output still flows.
    super({ allowHalfOpen: true });
    this.#conn = conn;
    this.#first = first.length > 0 ? first : undefined;
  }

  override _read(size: number): void {
    if (this.#first) {
      const first = this.#first;
      this.#first = undefined;
      this.push(first);
      return;
    }
    const buffer = new Uint8Array(Math.max(size, 64 * 1024));
    this.#conn.read(buffer).then(
      (n) => this.push(n === null ? null : buffer.subarray(0, n)),
      (error) => this.destroy(error),
    );
  }

  override _write(chunk: Uint8Array, _encoding: string, done: (error?: Error) => void): void {
    writeAll(this.#conn, chunk).then(() => done(), done);
  }

  override _final(done: (error?: Error) => void): void {
    this.#conn.closeWrite().then(() => done(), done);
  }

  override _destroy(error: Error | null, done: (error: Error | null) => void): void {
    closeQuietly(this.#conn);
    done(error);
  }
}

async function writeAll(conn: Deno.Conn, data: Uint8Array): Promise<void> {
  let written = 0;
  while (written < data.length) written += await conn.write(data.subarray(written));
}

function closeQuietly(conn: Deno.Conn): void {
  try {
    conn.close();
  } catch {
    // Already closed.
  }
}

/** Reads the answer's status line and headers; `rest` is what came after them. */
async function readHead(
  conn: Deno.Conn,
): Promise<{ status: number; head: string; rest: Uint8Array }> {
  let received = new Uint8Array(0);
  const buffer = new Uint8Array(16 * 1024);
  while (true) {
    const end = indexOfBlankLine(received);
    if (end >= 0) {
      const head = decoder.decode(received.subarray(0, end));
      const status = Number(/^HTTP\/1\.[01] (\d{3})/.exec(head)?.[1] ?? NaN);
      if (Number.isNaN(status)) throw new Error(`The engine answered an attach with "${head}"`);
      return { status, head, rest: received.slice(end + 4) };
    }
    if (received.length > MAX_HEAD) throw new Error("The engine's answer to an attach is too long");
    const n = await conn.read(buffer);
    if (n === null) throw new Error("The engine closed the connection of an attach");
    const grown = new Uint8Array(received.length + n);
    grown.set(received);
    grown.set(buffer.subarray(0, n), received.length);
    received = grown;
  }
}

function indexOfBlankLine(bytes: Uint8Array): number {
  for (let i = 0; i + 3 < bytes.length; i++) {
    if (bytes[i] === 13 && bytes[i + 1] === 10 && bytes[i + 2] === 13 && bytes[i + 3] === 10) {
      return i;
    }
  }
  return -1;
}

/** The engine's refusal, shaped as dockerode's errors are (`statusCode`, `json`). */
async function refused(conn: Deno.Conn, status: number, head: string, rest: Uint8Array) {
  const length = Number(/\r\ncontent-length:\s*(\d+)/i.exec(head)?.[1] ?? 0);
  let body = rest;
  const buffer = new Uint8Array(16 * 1024);
  while (body.length < Math.min(length, MAX_HEAD)) {
    const n = await conn.read(buffer);
    if (n === null) break;
    const grown = new Uint8Array(body.length + n);
    grown.set(body);
    grown.set(buffer.subarray(0, n), body.length);
    body = grown;
  }
  const text = decoder.decode(body);
  let json: { message?: string } | null = null;
  try {
    json = JSON.parse(text);
  } catch {
    // Not JSON: the text is the message.
  }
  const message = json?.message ?? text.trim();
  return Object.assign(new Error(`(HTTP code ${status}) ${message}`), {
    statusCode: status,
    json,
    reason: message,
  });
}
