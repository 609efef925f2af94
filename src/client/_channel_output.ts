import type { Buffer } from "node:buffer";
// @ts-types="@types/ssh2"
import type { ClientChannel } from "ssh2";

/**
 * A channel's stdout and stderr as one web stream, with backpressure: the
 * channel pauses (and capsule's window with it) while nobody reads.
 */
export function channelOutput(channel: ClientChannel): ReadableStream<Uint8Array> {
  let ended = false;
  return new ReadableStream<Uint8Array>({
    start(controller) {
      const push = (data: Buffer) => {
        if (ended) return;
        controller.enqueue(new Uint8Array(data));
        if ((controller.desiredSize ?? 1) <= 0) channel.pause();
      };
      channel.on("data", push);
      channel.stderr.on("data", push);
      channel.once("close", () => {
        if (ended) return;
        ended = true;
        controller.close();
      });
    },
    pull() {
      channel.resume();
    },
    cancel() {
      ended = true;
      channel.resume();
    },
  }, { highWaterMark: 16 });
}
