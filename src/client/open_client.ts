// @ts-types="@types/ssh2"
import ssh2 from "ssh2";
import { type EphemeralKeys } from "../auth/mod.ts";
import { StreamSocket } from "../ssh/mod.ts";
import { CapsuleClient } from "./capsule_client.ts";
import { ClientError } from "./client_error.ts";

/** The two ends of an in-memory connection, as `Capsule.serveConnection` takes them. */
interface Duplex {
  readable: ReadableStream<Uint8Array>;
  writable: WritableStream<Uint8Array>;
}

/** What {@linkcode openClient} needs of a running capsule. */
export interface ClientHost {
  /** Where the client's one-login key is registered for its user. */
  keys: EphemeralKeys;
  /**
   * Serves one SSH connection over `stream`; resolves once it has closed and
   * its containers have been given back.
   */
  serve(stream: Duplex, client: { remoteAddress: string }): Promise<void>;
}

/** Options of {@linkcode openClient}. */
export interface OpenClientOptions {
  /** The client's address in logs, the audit log and source-address checks (default `in-process`). */
  remoteAddress?: string;
  /** How long the handshake and login may take, in milliseconds (default 20 000). */
  readyTimeoutMs?: number;
}

/**
 * Opens an SSH connection for `user` to `host` in-process: a pair of
 * in-memory streams, no TCP. The client signs in with an ed25519 key made
 * for this connection alone; its public half is registered with `host`
 * for `user` only while the login runs, and its private half never leaves
 * this function's client. The login is otherwise any key login: the user
 * must be in the config's `users`, a user with a second factor (TOTP) is
 * refused, and the user's limits and container lifecycle apply.
 *
 * @throws {ClientError} `LOGIN_FAILED` when capsule refuses the login
 *
 * @example
 * ```ts
 * const client = await openClient(host, "alice");
 * const { stdout } = await client.exec("id -un");
 * await client.close();
 * ```
 */
export async function openClient(
  host: ClientHost,
  user: string,
  options: OpenClientOptions = {},
): Promise<CapsuleClient> {
  const pair = ssh2.utils.generateKeyPairSync("ed25519");
  const parsed = ssh2.utils.parseKey(pair.public);
  if (parsed instanceof Error) throw parsed; // ssh2 parses what it just made
  const unregister = host.keys.add(user, {
    algo: parsed.type,
    data: new Uint8Array(parsed.getPublicSSH()),
  });
  try {
    const toServer = new TransformStream<Uint8Array, Uint8Array>();
    const toClient = new TransformStream<Uint8Array, Uint8Array>();
    const served = host.serve(
      { readable: toServer.readable, writable: toClient.writable },
      { remoteAddress: options.remoteAddress ?? "in-process" },
    ).catch(() => {}); // nothing to report: the client sees the connection close
    const client = new ssh2.Client();
    const clientClosed = new Promise<void>((resolve) => client.once("close", () => resolve()));
    const done = Promise.all([clientClosed, served]).then(() => {});
    // After the login, errors arrive as a closed connection; ssh2 would throw them otherwise.
    client.on("error", () => {});
    try {
      await new Promise<void>((resolve, reject) => {
        client.once("ready", () => resolve());
        client.once("error", reject);
        client.once("close", () => reject(new Error("the connection closed")));
        client.connect({
          sock: new StreamSocket(toClient.readable, toServer.writable),
          username: user,
          privateKey: pair.private,
          readyTimeout: options.readyTimeoutMs ?? 20_000,
        });
      });
    } catch (error) {
      client.end();
      await done;
      const reason = error instanceof Error ? error.message : String(error);
      throw new ClientError("LOGIN_FAILED", `Cannot log in "${user}": ${reason}`, {
        cause: error,
      });
    }
    return new CapsuleClient(user, client, done);
  } finally {
    // Needed for the login only: from now on it lets nobody in.
    unregister();
  }
}
