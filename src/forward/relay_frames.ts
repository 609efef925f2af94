/**
 * The frames capsule and its relay (`tools/relay/capsule-relay.c`) exchange
 * over the relay's stdin and stdout: type (1 byte), connection id (4 bytes),
 * payload length (4 bytes), payload. The C file documents each type.
 */

/** Frame types, as their ASCII letters. */
export type RelayFrameType = "L" | "O" | "D" | "E" | "C" | "W" | "X";

/** One frame. */
export interface RelayFrame {
  type: RelayFrameType;
  id: number;
  payload: Uint8Array;
}

const HEADER = 9;
const TYPES = new Set<string>(["L", "O", "D", "E", "C", "W", "X"]);
/** The largest payload the relay sends (its read chunk) with room to spare; more is a broken stream. */
export const MAX_RELAY_PAYLOAD = 1024 * 1024;

/** Encodes one frame (header and payload in one buffer, so that one write carries it). */
export function encodeRelayFrame(
  type: RelayFrameType,
  id: number,
  payload: Uint8Array = new Uint8Array(),
): Uint8Array<ArrayBuffer> {
  const bytes = new Uint8Array(HEADER + payload.length);
  const view = new DataView(bytes.buffer);
  bytes[0] = type.charCodeAt(0);
  view.setUint32(1, id);
  view.setUint32(5, payload.length);
  bytes.set(payload, HEADER);
  return bytes;
}

/** A window frame's payload: a 32-bit count of bytes. */
export function windowPayload(bytes: number): Uint8Array {
  const payload = new Uint8Array(4);
  new DataView(payload.buffer).setUint32(0, bytes);
  return payload;
}

/** Reads a window frame's count. */
export function windowBytes(payload: Uint8Array): number {
  if (payload.length !== 4) throw new Error("malformed window frame from the relay");
  return new DataView(payload.buffer, payload.byteOffset, 4).getUint32(0);
}

/**
 * Cuts the relay's stdout into frames, whatever the chunking. Throws on a
 * stream that is not frames (an unknown type, an oversized payload).
 */
export class RelayFrameDecoder {
  // Chunks are kept as they come and joined only once a whole frame is
  // there: joining at every chunk would cost quadratic time for a frame that
  // trickles in byte by byte.
  #chunks: Uint8Array[] = [];
  #size = 0;

  /** Adds a chunk; returns the frames it completed. */
  push(chunk: Uint8Array): RelayFrame[] {
    if (chunk.length === 0) return [];
    this.#chunks.push(chunk);
    this.#size += chunk.length;
    const frames: RelayFrame[] = [];
    while (this.#size >= HEADER) {
      const header = this.#peek(HEADER);
      const type = String.fromCharCode(header[0]!);
      if (!TYPES.has(type)) throw new Error(`unknown frame type ${header[0]} from the relay`);
      const view = new DataView(header.buffer, header.byteOffset, HEADER);
      const length = view.getUint32(5);
      if (length > MAX_RELAY_PAYLOAD) {
        throw new Error(`oversized frame (${length} bytes) from the relay`);
      }
      if (this.#size < HEADER + length) break;
      const bytes = this.#take(HEADER + length);
      // A copy: the payload outlives the chunk it came in.
      frames.push({
        type: type as RelayFrameType,
        id: view.getUint32(1),
        payload: bytes.slice(HEADER),
      });
    }
    return frames;
  }

  /** Bytes of an unfinished frame, held until the rest comes. */
  get pendingBytes(): number {
    return this.#size;
  }

  /** The first `n` buffered bytes, without consuming them. */
  #peek(n: number): Uint8Array {
    const first = this.#chunks[0]!;
    if (first.length >= n) return first.subarray(0, n);
    const bytes = new Uint8Array(n);
    let at = 0;
    for (const chunk of this.#chunks) {
      const part = chunk.subarray(0, n - at);
      bytes.set(part, at);
      at += part.length;
      if (at === n) break;
    }
    return bytes;
  }

  /** Removes and returns the first `n` buffered bytes. */
  #take(n: number): Uint8Array {
    const bytes = new Uint8Array(n);
    let at = 0;
    while (at < n) {
      const chunk = this.#chunks[0]!;
      const part = chunk.subarray(0, n - at);
      bytes.set(part, at);
      at += part.length;
      if (part.length === chunk.length) this.#chunks.shift();
      else this.#chunks[0] = chunk.subarray(part.length);
    }
    this.#size -= n;
    return bytes;
  }
}
