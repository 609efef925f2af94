// @ts-types="@types/ssh2"
import ssh2 from "ssh2";
// @ts-types="@types/ssh2"
import type { ClientChannel } from "ssh2";
import { Buffer } from "node:buffer";
import net from "node:net";
import { CapsuleError } from "../errors/mod.ts";
import { ALGORITHMS } from "./algorithms.ts";

/** What `capsule spawn` asks the daemon for. */
export type SpawnRequest =
  | { kind: "shell" }
  | { kind: "exec"; command: string }
  | { kind: "sftp" };

/** A terminal's size in characters. */
export interface TerminalSize {
  rows: number;
  cols: number;
}

/** The terminal a session gets, when OpenSSH gave `capsule spawn` one. */
export interface SpawnPty extends TerminalSize {
  term: string;
}

/** The process's side of a spawned session. */
export interface SpawnIo {
  stdin: ReadableStream<Uint8Array>;
  stdout: WritableStream<Uint8Array>;
  stderr: WritableStream<Uint8Array>;
  /** Subscribes to terminal size changes (SIGWINCH); returns the unsubscriber. */
  onResize?(listener: (size: TerminalSize) => void): () => void;
  /** Subscribes to signals to relay (`INT`, `TERM`, `HUP`...); returns the unsubscriber. */
  onSignal(listener: (name: string) => void): () => void;
}

/** Options of {@linkcode spawnSession}. */
export interface SpawnOptions {
  /** The daemon's socket for this user. */
  socket: string;
  user: string;
  request: SpawnRequest;
  pty?: SpawnPty | undefined;
  /** Variables passed as `env` requests (the daemon keeps those `session.envAllow` lets in). */
  env?: Readonly<Record<string, string>>;
  io: SpawnIo;
}

/** Signal numbers of the names an SSH `exit-signal` carries (Linux). */
const SIGNAL_NUMBERS: Readonly<Record<string, number>> = {
  HUP: 1,
  INT: 2,
  QUIT: 3,
  ILL: 4,
  TRAP: 5,
  ABRT: 6,
  BUS: 7,
  FPE: 8,
  KILL: 9,
  USR1: 10,
  SEGV: 11,
  USR2: 12,
  PIPE: 13,
  ALRM: 14,
  TERM: 15,
};

/**
 * Runs one session of `capsule spawn`: an SSH client over the user's unix
 * socket, logged in by the socket itself (the `none` method), that asks for a
 * shell, a command or the `sftp` subsystem, relays the three streams, the
 * terminal size and signals, and returns the session's exit status (128 + n
 * for a signal n, as a shell reports it).
 *
 * @throws {CapsuleError} `SPAWN_FAILED` when the daemon cannot be reached or
 *   refuses; its message is the one line for the user
 */
export async function spawnSession(options: SpawnOptions): Promise<number> {
  const sock = await connect(options.socket, options.user);
  const client = new ssh2.Client();
  const closed = new Promise<void>((resolve) => client.once("close", () => resolve()));
  try {
    await new Promise<void>((resolve, reject) => {
      client.once("ready", () => resolve());
      client.once("error", (error: Error & { level?: string }) => {
        reject(
          failure(
            error.level === "client-authentication"
              ? `capsule refused "${options.user}" on "${options.socket}"`
              : `Cannot talk to capsule on "${options.socket}": ${error.message}`,
            error,
          ),
        );
      });
      client.connect({
        sock,
        username: options.user,
        // Whoever may open the socket is the daemon's own: its file
        // permissions vouch for both ends, so no host key is checked.
        hostVerifier: () => true,
        algorithms: ALGORITHMS,
        readyTimeout: 60_000,
      });
    });
    client.on("error", () => {}); // a lost daemon shows as the close below
    const channel = await open(client, options);
    return await relay(channel, options.io, closed);
  } finally {
    client.end();
    sock.destroy();
  }
}

function failure(message: string, cause?: unknown): CapsuleError {
  return new CapsuleError("SPAWN_FAILED", message, { cause });
}

/** Connects to the socket, with a clear message for each way it fails. */
function connect(path: string, user: string): Promise<net.Socket> {
  return new Promise((resolve, reject) => {
    const sock = net.createConnection({ path });
    sock.once("connect", () => resolve(sock));
    sock.once("error", (error: Error & { code?: string }) => {
      sock.destroy();
      if (error.code === "ENOENT" || error.code === "ECONNREFUSED") {
        reject(failure(`capsule is not running: nothing listens on "${path}"`, error));
      } else if (error.code === "EACCES" || error.code === "EPERM") {
        reject(failure(`Permission denied: "${path}" is for the user "${user}" only`, error));
      } else reject(failure(`Cannot connect to capsule on "${path}": ${error.message}`, error));
    });
  });
}

function open(client: ssh2.Client, options: SpawnOptions): Promise<ClientChannel> {
  const { request, pty } = options;
  const window = pty
    ? { term: pty.term, rows: pty.rows, cols: pty.cols, width: 0, height: 0 }
    : undefined;
  const env = options.env ?? {};
  return new Promise((resolve, reject) => {
    const done = (error: Error | undefined, channel: ClientChannel) => {
      if (error) reject(failure(`capsule refused the session: ${error.message}`, error));
      else resolve(channel);
    };
    if (request.kind === "sftp") client.subsys("sftp", done);
    else if (request.kind === "shell") {
      client.shell(window ?? false, { env }, done);
    } else client.exec(request.command, { env, ...(window ? { pty: window } : {}) }, done);
  });
}

/**
 * Pipes the streams until the channel closes; resolves with the exit status
 * (255 when the daemon sent none).
 */
async function relay(channel: ClientChannel, io: SpawnIo, closed: Promise<void>): Promise<number> {
  let status = 255;
  channel.on("exit", (code: number | null, signal?: string) => {
    if (typeof code === "number") status = code;
    else if (signal) status = 128 + (SIGNAL_NUMBERS[signal.replace(/^SIG/, "")] ?? 0);
  });
  const out = io.stdout.getWriter();
  const err = io.stderr.getWriter();
  const pipeOut = (
    stream: NodeJS.ReadableStream & { pause(): void; resume(): void },
    writer: WritableStreamDefaultWriter<Uint8Array>,
  ) => {
    let last: Promise<void> = Promise.resolve();
    stream.on("data", (chunk: Buffer) => {
      stream.pause();
      last = writer.write(new Uint8Array(chunk)).then(
        () => void stream.resume(),
        // The reader went away (sshd closed our output): nobody is left to serve.
        () => void channel.close(),
      );
    });
    return () => last;
  };
  const outDone = pipeOut(channel, out);
  const errDone = pipeOut(channel.stderr, err);

  const unsubscribe = [
    io.onSignal((name) => {
      sendSignal(channel, name);
      // A hang-up means the user is gone: end the session rather than wait.
      if (name === "HUP") channel.close();
    }),
    io.onResize?.((size) => channel.setWindow(size.rows, size.cols, 0, 0)) ?? (() => {}),
  ];
  const channelClosed = new Promise<void>((resolve) => channel.once("close", () => resolve()));
  const pumping = pumpStdin(io.stdin, channel, channelClosed);
  try {
    await Promise.race([channelClosed, closed]);
    await outDone();
    await errDone();
    return status;
  } finally {
    for (const stop of unsubscribe) stop();
    void pumping;
    await out.close().catch(() => {});
    await err.close().catch(() => {});
  }
}

/** Copies standard input into the channel, then sends EOF. */
async function pumpStdin(
  stdin: ReadableStream<Uint8Array>,
  channel: ClientChannel,
  closed: Promise<void>,
): Promise<void> {
  const reader = stdin.getReader();
  let open = true;
  void closed.then(() => {
    open = false;
    reader.cancel().catch(() => {});
  });
  try {
    while (open) {
      const { done, value } = await reader.read();
      if (done || !open) break;
      if (!channel.write(Buffer.from(value))) {
        await new Promise<void>((resolve) => {
          channel.once("drain", () => resolve());
          void closed.then(resolve);
        });
      }
    }
    if (open) channel.end();
  } catch {
    // Standard input failed or was cancelled: nothing more to send.
  } finally {
    reader.releaseLock();
  }
}

/** ssh2's channel internals {@linkcode sendSignal} needs (pinned ssh2 1.17.0). */
interface ChannelInternals {
  outgoing?: { id: number; state: string };
  _client?: { _protocol?: { signal(id: number, name: string): void } };
}

/**
 * Sends a `signal` request. ssh2's `channel.signal()` sends nothing once the
 * channel's input has ended (after standard input's EOF), though the process
 * still runs and RFC 4254 allows it: so it goes through ssh2's protocol
 * object while the channel is open.
 */
function sendSignal(channel: ClientChannel, name: string): void {
  const internals = channel as unknown as ChannelInternals;
  const protocol = internals._client?._protocol;
  const outgoing = internals.outgoing;
  // "eof": our side sent all its data; the channel is still open.
  if ((outgoing?.state === "open" || outgoing?.state === "eof") && protocol) {
    protocol.signal(outgoing.id, name);
  } else channel.signal(name);
}
