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
  #pending: Uint8Array = new Uint8Array();

  /** Adds a chunk; returns the frames it completed. */
  push(chunk: Uint8Array): RelayFrame[] {
    let bytes = chunk;
    if (this.#pending.length > 0) {
      bytes = new Uint8Array(this.#pending.length + chunk.length);
      bytes.set(this.#pending);
      bytes.set(chunk, this.#pending.length);
    }
    const frames: RelayFrame[] = [];
    let at = 0;
    while (bytes.length - at >= HEADER) {
      const type = String.fromCharCode(bytes[at]!);
      if (!TYPES.has(type)) throw new Error(`unknown frame type ${bytes[at]} from the relay`);
      const view = new DataView(bytes.buffer, bytes.byteOffset + at, HEADER);
      const id = view.getUint32(1);
      const length = view.getUint32(5);
      if (length > MAX_RELAY_PAYLOAD) {
        throw new Error(`oversized frame (${length} bytes) from the relay`);
      }
      if (bytes.length - at < HEADER + length) break;
      // A copy: the payload outlives the chunk it came in.
      const payload = bytes.slice(at + HEADER, at + HEADER + length);
      frames.push({ type: type as RelayFrameType, id, payload });
      at += HEADER + length;
    }
    this.#pending = at === bytes.length ? new Uint8Array() : bytes.slice(at);
    return frames;
  }

  /** Bytes of an unfinished frame, held until the rest comes. */
  get pendingBytes(): number {
    return this.#pending.length;
  }
}
