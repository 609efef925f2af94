import type { ContainerRuntime, OutputChunk, RunningProcess } from "../runtime/mod.ts";
import { toolPath } from "../tools/mod.ts";
import {
  encodeRelayFrame,
  type RelayFrame,
  RelayFrameDecoder,
  type RelayFrameType,
  windowBytes,
  windowPayload,
} from "./relay_frames.ts";

/**
 * Bytes each direction of a relayed connection may have in flight: the
 * relay's `WINDOW` (tools/relay/capsule-relay.c). capsule holds at most this
 * much per connection from the container, and sends at most this much ahead.
 */
export const RELAY_WINDOW = 256 * 1024;
/** The largest data frame capsule sends (the relay reads its stdin in 64 KiB). */
const MAX_DATA_FRAME = 64 * 1024;

/** A relayed connection was closed under a write. */
export class RelayClosedError extends Error {
  constructor() {
    super("the relayed connection is closed");
    this.name = "RelayClosedError";
  }
}

/** What the relay listens on, in the container. */
export type RelayBind =
  | { kind: "tcp"; address: string; port: number }
  | { kind: "unix"; path: string }
  | { kind: "agent"; path: string };

/** One connection the relay accepted, as capsule sees it. */
export interface RelayConnection {
  /** Who connected, "address port" for TCP, "" for a unix socket. */
  readonly peer: string;
  /** Bytes from the peer in the container; ends at its EOF, or when the connection closes. */
  readonly incoming: AsyncIterable<Uint8Array>;
  /** Sends bytes to the peer, within the relay's window; rejects once the connection closed. */
  write(data: Uint8Array): Promise<void>;
  /** EOF to the peer, once what was written is out. */
  eof(): void;
  /** Closes the connection now. Idempotent. */
  close(): void;
  /** Aborted once the connection is gone, by either side. */
  readonly closed: AbortSignal;
}

/** Options of {@linkcode RelayListener.start}. */
export interface RelayListenerOptions {
  /** The container's user (the relay and its socket belong to it). */
  user: string;
  shell: string;
  /** Called for each accepted connection; must eventually close it. */
  onConnection(connection: RelayConnection): void;
  /** Milliseconds the relay gets to listen (default 10 s). */
  startTimeoutMs?: number;
}

interface Relayed {
  connection: RelayConnection;
  queue: Uint8Array[];
  /** Bytes received and not yet given back with a window frame: at most the window. */
  held: number;
  ended: boolean;
  wake: (() => void) | undefined;
  credit: number;
  creditWaiter: (() => void) | undefined;
  abort: AbortController;
}

/**
 * capsule's relay (`capsule-relay`) listening inside a container, exec'd as
 * the container's user: each connection it accepts there becomes a
 * {@linkcode RelayConnection} multiplexed over the relay's stdin and stdout,
 * with a window per direction so that no connection grows memory or stalls
 * another. Used by remote forwarding (`ssh -R`) and agent forwarding.
 */
export class RelayListener {
  readonly #process: RunningProcess;
  readonly #options: RelayListenerOptions;
  readonly #connections = new Map<number, Relayed>();
  readonly #decoder = new RelayFrameDecoder();
  #sending: Promise<void> = Promise.resolve();
  #stopped = false;
  #bound = "";
  #lastId = 0;
  #exitReason = "";
  /** Resolves once the relay has exited (or was stopped) and every connection is closed. */
  readonly done: Promise<void>;
  /** Settled once the relay listens, or cannot. */
  readonly #listening = Promise.withResolvers<void>();

  private constructor(process: RunningProcess, options: RelayListenerOptions) {
    this.#process = process;
    this.#options = options;
    this.done = this.#run(this.#listening);
  }

  /**
   * Starts the relay in `containerId` and waits until it listens.
   *
   * @throws Error with the relay's own reason (e.g. "bind: Address in use")
   */
  static async start(
    runtime: ContainerRuntime,
    containerId: string,
    bind: RelayBind,
    options: RelayListenerOptions,
  ): Promise<RelayListener> {
    const args = bind.kind === "tcp"
      ? ["tcp", bind.address, String(bind.port)]
      : [bind.kind, bind.path];
    const process = await runtime.exec(containerId, {
      id: `relay-${crypto.randomUUID().slice(0, 8)}`,
      shell: options.shell,
      cmd: [toolPath("capsule-relay"), ...args],
      env: [],
      tty: false,
      workdir: "",
      user: options.user,
    });
    const relay = new RelayListener(process, options);
    const listening = relay.#listening;
    const timer = setTimeout(
      () => listening.reject(new Error("the relay did not start listening in time")),
      options.startTimeoutMs ?? 10_000,
    );
    try {
      await listening.promise;
    } catch (error) {
      await relay.stop();
      throw error;
    } finally {
      clearTimeout(timer);
    }
    return relay;
  }

  /** What the relay bound: the port (a port 0 request gets the one picked), or the socket path. */
  get bound(): string {
    return this.#bound;
  }

  /** Why the relay ended ("stopped" when capsule stopped it), once it has. */
  get exitReason(): string {
    return this.#exitReason;
  }

  /** Connections open now. */
  get size(): number {
    return this.#connections.size;
  }

  /** Stops the relay: its connections close, its socket goes. Idempotent. */
  async stop(): Promise<void> {
    if (this.#stopped) return await this.done;
    this.#stopped = true;
    // EOF on its stdin makes the relay close everything, remove its socket and exit.
    await this.#process.closeStdin().catch(() => {});
    let timer: ReturnType<typeof setTimeout> | undefined;
    await Promise.race([this.done, new Promise((r) => (timer = setTimeout(r, 2_000)))]);
    clearTimeout(timer);
    await this.#process.close().catch(() => {});
    await this.done;
  }

  async #run(listening: PromiseWithResolvers<void>): Promise<void> {
    let said = "";
    const output: AsyncIterable<OutputChunk> = this.#process.output;
    try {
      for await (const chunk of output) {
        if (chunk.stream === "stderr") {
          said = (said + new TextDecoder().decode(chunk.data)).slice(-2048);
          continue;
        }
        for (const frame of this.#decoder.push(chunk.data)) {
          if (frame.type === "L") {
            this.#bound = new TextDecoder().decode(frame.payload);
            listening.resolve();
          } else if (frame.type === "X") {
            this.#exitReason = new TextDecoder().decode(frame.payload).slice(0, 300);
            listening.reject(new Error(this.#exitReason));
          } else {
            this.#onFrame(frame);
          }
        }
      }
      this.#exitReason ||= said.trim().slice(0, 300) || (this.#stopped ? "stopped" : "exited");
      listening.reject(new Error(`the relay exited: ${this.#exitReason}`));
    } catch (error) {
      this.#exitReason = error instanceof Error ? error.message : String(error);
      listening.reject(error);
    } finally {
      this.#stopped = true;
      for (const relayed of this.#connections.values()) this.#gone(relayed);
      this.#connections.clear();
      await this.#process.close().catch(() => {});
    }
  }

  /**
   * One frame from the relay. What comes out of the container is not
   * trusted (a process of the container's user can write into the relay's
   * stdout): a frame that breaks the protocol (a reused id, data beyond the
   * window capsule granted) stops the whole relay, so that nothing it sends
   * can grow capsule's memory.
   */
  #onFrame(frame: RelayFrame): void {
    if (frame.type === "O") {
      if (this.#connections.has(frame.id) || frame.id <= this.#lastId) {
        throw new Error(`the relay reused connection id ${frame.id}`);
      }
      this.#lastId = frame.id;
      this.#open(frame.id, new TextDecoder().decode(frame.payload));
      return;
    }
    const relayed = this.#connections.get(frame.id);
    if (!relayed) return;
    switch (frame.type) {
      case "D":
        relayed.held += frame.payload.length;
        if (relayed.held > RELAY_WINDOW) {
          throw new Error(`the relay sent beyond its window on connection ${frame.id}`);
        }
        relayed.queue.push(frame.payload);
        relayed.wake?.();
        break;
      case "E":
        relayed.ended = true;
        relayed.wake?.();
        break;
      case "W":
        // Never more than the window, whatever the relay claims.
        relayed.credit = Math.min(relayed.credit + windowBytes(frame.payload), RELAY_WINDOW);
        relayed.creditWaiter?.();
        break;
      case "C":
        this.#connections.delete(frame.id);
        this.#gone(relayed);
        break;
    }
  }

  #gone(relayed: Relayed): void {
    relayed.ended = true;
    relayed.abort.abort(new RelayClosedError());
    relayed.wake?.();
    relayed.creditWaiter?.();
  }

  #send(type: RelayFrameType, id: number, payload?: Uint8Array): Promise<void> {
    const frame = encodeRelayFrame(type, id, payload);
    const sent = this.#sending.then(() => this.#process.writeStdin(frame));
    // One failed write (the relay is gone) must not poison the frames after it.
    this.#sending = sent.catch(() => {});
    return sent;
  }

  #open(id: number, peer: string): void {
    const abort = new AbortController();
    const send = (type: RelayFrameType, payload?: Uint8Array) => this.#send(type, id, payload);
    const drop = () => {
      this.#connections.delete(id);
      this.#gone(relayed);
    };
    const relayed: Relayed = {
      queue: [],
      held: 0,
      ended: false,
      wake: undefined,
      creditWaiter: undefined,
      credit: RELAY_WINDOW,
      abort,
      connection: {
        peer,
        closed: abort.signal,
        incoming: {
          async *[Symbol.asyncIterator]() {
            while (true) {
              while (relayed.queue.length === 0) {
                if (relayed.ended) return;
                await new Promise<void>((resolve) => (relayed.wake = resolve));
                relayed.wake = undefined;
              }
              const chunk = relayed.queue.shift()!;
              yield chunk;
              // The consumer took it: the relay may read that much more.
              relayed.held -= chunk.length;
              if (!abort.signal.aborted) {
                void send("W", windowPayload(chunk.length)).catch(() => {});
              }
            }
          },
        },
        async write(data: Uint8Array) {
          let at = 0;
          while (at < data.length) {
            if (abort.signal.aborted) throw new RelayClosedError();
            if (relayed.credit === 0) {
              await new Promise<void>((resolve) => (relayed.creditWaiter = resolve));
              relayed.creditWaiter = undefined;
              continue;
            }
            const n = Math.min(relayed.credit, data.length - at, MAX_DATA_FRAME);
            relayed.credit -= n;
            await send("D", data.subarray(at, at + n));
            at += n;
          }
        },
        eof() {
          if (!abort.signal.aborted) void send("E").catch(() => {});
        },
        close() {
          if (abort.signal.aborted) return;
          drop();
          void send("C").catch(() => {});
        },
      },
    };
    this.#connections.set(id, relayed);
    this.#options.onConnection(relayed.connection);
  }
}
