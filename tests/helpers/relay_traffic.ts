/**
 * The data side of playing capsule to a relay (see relay_process.ts): tracks
 * each connection's frames, grants the relay credit only as the test "reads"
 * (and checks the relay never sends beyond it), and sends data within the
 * credit the relay grants.
 */
import { createHash, type Hash } from "node:crypto";
import { type RelayFrame, windowBytes, windowPayload } from "../../src/forward/relay_frames.ts";
import { type RelayProcess, WINDOW, within } from "./relay_process.ts";

/**
 * When the test gives the relay its credit back for data it received:
 * `eager` for every frame at once, `lazy` only once the whole window is
 * outstanding (so the relay runs into its limit on every round), `none`
 * never (a stalled reader; grant by hand with {@linkcode RelayTraffic.grant}).
 */
export type GrantMode = "eager" | "lazy" | "none";

/** One relayed connection, as the test (capsule) sees it. */
export interface Flow {
  id: number;
  /** The `O` frame's payload. */
  peer: string;
  mode: GrantMode;
  /** Bytes of `D` from the relay. */
  received: number;
  receivedHash: Hash;
  /** Bytes the test gave back with `W`. */
  granted: number;
  /** The most `received - granted` ever was. */
  maxOutstanding: number;
  /** Bytes the test sent with `D`. */
  sent: number;
  /** Bytes the relay acknowledged with `W`. */
  acked: number;
  /** `E` came. */
  eof: boolean;
  /** `C` came. */
  closed: boolean;
}

/** Fills `n` random bytes. */
export function randomBytes(n: number): Uint8Array<ArrayBuffer> {
  const bytes = new Uint8Array(n);
  for (let at = 0; at < n; at += 65_536) {
    crypto.getRandomValues(bytes.subarray(at, Math.min(n, at + 65_536)));
  }
  return bytes;
}

/** Hex SHA-256. */
export function sha256(bytes: Uint8Array): string {
  return createHash("sha256").update(bytes).digest("hex");
}

/** Tracks every connection of one relay; install with `relay.handler = traffic.handle`. */
export class RelayTraffic {
  readonly #relay: RelayProcess;
  readonly #mode: (peer: string) => GrantMode;
  readonly flows = new Map<number, Flow>();
  /** Protocol violations seen (asserted empty by the tests). */
  readonly violations: string[] = [];
  readonly #waiters = new Set<() => void>();

  constructor(relay: RelayProcess, mode: (peer: string) => GrantMode = () => "lazy") {
    this.#relay = relay;
    this.#mode = mode;
    relay.handler = (frame) => this.#handle(frame);
  }

  #handle(frame: RelayFrame): void {
    if (frame.type === "O") {
      if (this.flows.has(frame.id)) this.violations.push(`O${frame.id}: an id used twice`);
      const peer = new TextDecoder().decode(frame.payload);
      this.flows.set(frame.id, {
        id: frame.id,
        peer,
        mode: this.#mode(peer),
        received: 0,
        receivedHash: createHash("sha256"),
        granted: 0,
        maxOutstanding: 0,
        sent: 0,
        acked: 0,
        eof: false,
        closed: false,
      });
    } else {
      const flow = this.flows.get(frame.id);
      if (!flow || flow.closed) {
        this.violations.push(`${frame.type}${frame.id}: no such connection open`);
      } else if (frame.type === "D") {
        if (flow.eof) this.violations.push(`D${frame.id} after E`);
        flow.received += frame.payload.length;
        flow.receivedHash.update(frame.payload);
        const outstanding = flow.received - flow.granted;
        flow.maxOutstanding = Math.max(flow.maxOutstanding, outstanding);
        if (outstanding > WINDOW) {
          this.violations.push(`D${frame.id}: ${outstanding} bytes beyond the credit granted`);
        }
        if (flow.mode === "eager" || (flow.mode === "lazy" && outstanding >= WINDOW)) {
          void this.grant(flow, outstanding).catch(() => {});
        }
      } else if (frame.type === "W") {
        flow.acked += windowBytes(frame.payload);
        if (flow.acked > flow.sent) {
          this.violations.push(`W${frame.id}: ${flow.acked} bytes acknowledged of ${flow.sent}`);
        }
      } else if (frame.type === "E") {
        if (flow.eof) this.violations.push(`E${frame.id} twice`);
        flow.eof = true;
      } else if (frame.type === "C") {
        flow.closed = true;
      } else {
        this.violations.push(`unexpected ${frame.type}${frame.id}`);
      }
    }
    for (const wake of this.#waiters) wake();
  }

  /** Gives the relay `n` bytes of credit for `flow`. */
  grant(flow: Flow, n: number): Promise<void> {
    flow.granted += n;
    return this.#relay.send("W", flow.id, windowPayload(n));
  }

  /** Waits until `check` returns something other than undefined/false. */
  async until<T>(check: () => T | undefined | false, timeoutMs: number, what: string): Promise<T> {
    let wake = () => {};
    const changed = () => wake();
    this.#waiters.add(changed);
    try {
      const deadline = Date.now() + timeoutMs;
      while (true) {
        const value = check();
        if (value !== undefined && value !== false) return value;
        const next = new Promise<void>((resolve) => (wake = resolve));
        await within(next, Math.max(0, deadline - Date.now()), what);
      }
    } finally {
      this.#waiters.delete(changed);
    }
  }

  /** The connection from a TCP peer whose local port is `port`. */
  flowFrom(port: number, timeoutMs = 10_000): Promise<Flow> {
    const peer = new RegExp(`^(127\\.0\\.0\\.1|::1) ${port}$`);
    return this.until(
      () => [...this.flows.values()].find((flow) => peer.test(flow.peer)),
      timeoutMs,
      `O for the peer on port ${port}`,
    );
  }

  /** Sends `data` to `flow`'s peer in `D` frames of at most `chunk` bytes, within the relay's window. */
  async send(flow: Flow, data: Uint8Array, options: { chunk?: number; timeoutMs?: number } = {}) {
    const chunk = options.chunk ?? 64 * 1024;
    for (let at = 0; at < data.length;) {
      const credit = await this.until(
        () => (flow.closed ? -1 : WINDOW - (flow.sent - flow.acked) || false),
        options.timeoutMs ?? 20_000,
        `window for D${flow.id} (${flow.sent} sent, ${flow.acked} acknowledged)`,
      );
      if (credit < 0) throw new Error(`connection ${flow.id} closed under a write`);
      const n = Math.min(credit, chunk, data.length - at);
      flow.sent += n;
      await this.#relay.send("D", flow.id, data.subarray(at, at + n));
      at += n;
    }
  }
}

/** Writes all of `data` to `conn`. */
export async function writeAll(conn: Deno.Conn, data: Uint8Array): Promise<void> {
  for (let at = 0; at < data.length;) at += await conn.write(data.subarray(at));
}

/** Reads `conn` to EOF (or `limit` bytes); returns how much and its SHA-256. */
export async function readAll(
  conn: Deno.Conn,
  limit = Infinity,
): Promise<{ length: number; sha256: string }> {
  const hash = createHash("sha256");
  const buffer = new Uint8Array(64 * 1024);
  let length = 0;
  while (length < limit) {
    const n = await conn.read(buffer.subarray(0, Math.min(buffer.length, limit - length)));
    if (n === null) break;
    hash.update(buffer.subarray(0, n));
    length += n;
  }
  return { length, sha256: hash.digest("hex") };
}
