import type { OutputChunk } from "./container_runtime.ts";

const HEADER_SIZE = 8;

function concat(parts: Uint8Array[]): Uint8Array {
  if (parts.length === 1) return parts[0]!;
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let at = 0;
  for (const part of parts) {
    out.set(part, at);
    at += part.length;
  }
  return out;
}

/**
 * Splits Docker's multiplexed attach stream (an 8-byte header before each
 * frame: stream type, three zero bytes, big-endian payload length) into
 * stdout and stderr chunks.
 *
 * Pull-based on purpose: the source is read only when the consumer asks for
 * the next chunk, so backpressure reaches the engine. A frame's payload is
 * yielded as it arrives, so a large frame is never buffered whole; the many
 * small frames of a chatty process that arrive in one read are merged per
 * stream, so each read costs one write downstream, not one per frame.
 *
 * @throws {Error} when the stream ends inside a frame header
 */
export async function* demuxDockerStream(
  source: AsyncIterable<Uint8Array>,
): AsyncGenerator<OutputChunk> {
  const header = new Uint8Array(HEADER_SIZE);
  let headerFill = 0;
  let remaining = 0;
  let stream: OutputChunk["stream"] = "stdout";

  for await (const chunk of source) {
    let offset = 0;
    let run: Uint8Array[] = [];
    let runStream: OutputChunk["stream"] = stream;
    const out: OutputChunk[] = [];
    while (offset < chunk.length) {
      if (remaining === 0) {
        const take = Math.min(HEADER_SIZE - headerFill, chunk.length - offset);
        header.set(chunk.subarray(offset, offset + take), headerFill);
        headerFill += take;
        offset += take;
        if (headerFill < HEADER_SIZE) break;
        headerFill = 0;
        // Type 2 is stderr; 0 (stdin echo) and 1 are shown as stdout, as the Docker CLI does.
        stream = header[0] === 2 ? "stderr" : "stdout";
        remaining = new DataView(header.buffer).getUint32(4);
        continue;
      }
      const take = Math.min(remaining, chunk.length - offset);
      remaining -= take;
      if (stream !== runStream && run.length > 0) {
        out.push({ stream: runStream, data: concat(run) });
        run = [];
      }
      runStream = stream;
      run.push(chunk.subarray(offset, offset + take));
      offset += take;
    }
    if (run.length > 0) out.push({ stream: runStream, data: concat(run) });
    yield* out;
  }
  if (headerFill !== 0) {
    throw new Error(`Docker stream ended inside a frame header (${headerFill} of 8 bytes)`);
  }
}
