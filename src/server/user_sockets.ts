import { USER_SOCKET_NAME } from "../config/mod.ts";
import type { UserSocketsConfig } from "../config/types.ts";
import { CapsuleError, describeError } from "../errors/mod.ts";
import type { Logger } from "../log/mod.ts";
import { StreamSocket } from "../ssh/mod.ts";
import { unixAccount } from "../auth/mod.ts";

/** Options of {@linkcode UserSockets.open}. */
export interface UserSocketsOptions {
  logger: Logger;
  /** The users of the config; `settings.users` empty means all of them. */
  users: readonly string[];
  /** Serves one connection that came in on `user`'s socket; resolves once it closed. */
  serve(socket: StreamSocket, user: string): Promise<void>;
  /** The passwd file accounts are looked up in (default `/etc/passwd`); a seam for tests. */
  passwd?: string;
}

/**
 * The per-user unix sockets behind OpenSSH's forced command: one listener
 * per user at `DIR/USER/capsule.sock`. The directory is the gate: it is made
 * mode 0700 and owned by the Unix account of the same name, so only that
 * user (and root) can reach the socket, and a connection on it is that
 * user's. A directory that already exists keeps its owner and mode (the
 * operator's own arrangement, such as a group for accounts only LDAP knows);
 * a user with neither an account nor a directory gets no socket.
 */
export class UserSockets {
  readonly #listeners: { user: string; path: string; listener: Deno.UnixListener }[] = [];
  readonly #serving = new Set<Promise<void>>();
  readonly #logger: Logger;

  private constructor(logger: Logger) {
    this.#logger = logger;
  }

  /**
   * Makes the directories and starts listening.
   *
   * @throws {CapsuleError} when the directory or a socket cannot be made
   */
  static async open(
    settings: UserSocketsConfig,
    options: UserSocketsOptions,
  ): Promise<UserSockets> {
    const sockets = new UserSockets(options.logger);
    const users = settings.users.length > 0
      ? settings.users.filter((user) => options.users.includes(user))
      : options.users;
    try {
      await Deno.mkdir(settings.dir, { recursive: true, mode: 0o755 });
      for (const user of users) await sockets.#listen(settings.dir, user, options);
    } catch (error) {
      await sockets.close();
      throw new CapsuleError(
        "USER_SOCKETS_FAILED",
        `Cannot open the user sockets in "${settings.dir}": ${describeError(error)}`,
        { cause: error },
      );
    }
    return sockets;
  }

  /** The users who have a socket now. */
  get users(): string[] {
    return this.#listeners.map((l) => l.user);
  }

  async #listen(dir: string, user: string, options: UserSocketsOptions): Promise<void> {
    const userDir = `${dir.replace(/\/+$/, "")}/${user}`;
    const existed = await Deno.lstat(userDir).then((s) => s.isDirectory, () => false);
    if (!existed) {
      const account = await unixAccount(user, options.passwd);
      if (account === undefined) {
        this.#logger.warn("user_socket.no_account", { user, dir: userDir });
        return;
      }
      await Deno.mkdir(userDir, { mode: 0o700 });
      try {
        // mkdir's mode is filtered by the umask.
        await Deno.chmod(userDir, 0o700);
        await Deno.chown(userDir, account.uid, account.gid);
      } catch (error) {
        await Deno.remove(userDir).catch(() => {});
        throw new Error(
          `cannot give "${userDir}" to "${user}" (only root can); make it yourself: ` +
            `install -d -o "$(id -un)" -g ${user} -m 0750 ${userDir}`,
          { cause: error },
        );
      }
    }
    const path = `${userDir}/${USER_SOCKET_NAME}`;
    await Deno.remove(path).catch(() => {});
    const listener = Deno.listen({ transport: "unix", path });
    // Whoever may enter the directory may connect: the directory is the gate.
    await Deno.chmod(path, 0o666);
    this.#listeners.push({ user, path, listener });
    this.#logger.info("user_socket.listening", { user, path });
    void this.#accept(user, listener, options);
  }

  async #accept(
    user: string,
    listener: Deno.UnixListener,
    options: UserSocketsOptions,
  ): Promise<void> {
    let count = 0;
    try {
      for await (const conn of listener) {
        const socket = new StreamSocket(conn.readable, conn.writable, {
          // Distinct ports keep concurrent connections apart until their handshakes.
          remoteAddress: `unix-${user}`,
          remotePort: ++count,
          onClose: () => {
            try {
              conn.close();
            } catch {
              // Closed with its streams already.
            }
          },
        });
        const serving = options.serve(socket, user).catch((error) => {
          this.#logger.warn("user_socket.error", { user, error: describeError(error) });
        });
        this.#serving.add(serving);
        void serving.finally(() => this.#serving.delete(serving));
      }
    } catch (error) {
      if (!(error instanceof Deno.errors.BadResource)) {
        this.#logger.error("user_socket.accept_failed", { user, error: describeError(error) });
      }
    }
  }

  /** Stops listening and removes the socket files; open connections carry on. */
  async close(): Promise<void> {
    for (const { listener, path } of this.#listeners.splice(0)) {
      try {
        listener.close();
      } catch {
        // Closed already.
      }
      await Deno.remove(path).catch(() => {});
    }
  }
}
