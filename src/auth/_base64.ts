import { Buffer } from "node:buffer";

// Canonical, padded base64 only: `Buffer.from` alone would silently skip junk.
const BASE64 = /^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?$/;

/** Decodes canonical padded base64; `null` for empty or malformed text. */
export function _decodeBase64(text: string): Uint8Array | null {
  if (text === "" || !BASE64.test(text)) return null;
  return new Uint8Array(Buffer.from(text, "base64"));
}

/** Encodes bytes as padded base64. */
export function _encodeBase64(bytes: Uint8Array): string {
  return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString("base64");
}
