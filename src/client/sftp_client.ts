import { Buffer } from "node:buffer";
// @ts-types="@types/ssh2"
import type { SFTPWrapper, Stats } from "ssh2";
import { ClientError } from "./client_error.ts";

/** What {@linkcode SftpClient.stat} tells of a file. */
export interface SftpStat {
  /** Size in bytes. */
  size: number;
  /** Permission and type bits, as `stat(2)`'s `st_mode`. */
  mode: number;
  /** Last modification, in seconds since the epoch. */
  mtime: number;
  isFile: boolean;
  isDirectory: boolean;
  isSymbolicLink: boolean;
}

/** One entry of {@linkcode SftpClient.readdir}. */
export interface SftpEntry extends SftpStat {
  name: string;
}

/**
 * An SFTP session of an in-process client ({@linkcode CapsuleClient.sftp}),
 * with a promise per request. It runs in the user's container as a shell
 * does, so it sees the same files, mounts and permissions. Paths are the
 * container's; relative ones start in the user's home directory.
 *
 * @example
 * ```ts
 * const sftp = await client.sftp();
 * await sftp.mkdir("site");
 * await sftp.writeFile("site/index.html", "<h1>hello</h1>\n");
 * const page = new TextDecoder().decode(await sftp.readFile("site/index.html"));
 * await sftp.close();
 * ```
 */
export class SftpClient {
  readonly #sftp: SFTPWrapper;
  readonly #closed: Promise<void>;
  /** Whether the server is OpenSSH's sftp-server, which reads SYMLINK's paths swapped. */
  readonly #openssh: boolean;

  /** @param sftp the started SFTP session, which this object now owns */
  constructor(sftp: SFTPWrapper) {
    this.#sftp = sftp;
    this.#closed = new Promise((resolve) => sftp.once("close", () => resolve()));
    // ssh2 tells OpenSSH by the server's version line, which is capsule's,
    // not the sftp-server's: its extensions (`...@openssh.com`) say it instead.
    const extensions = (sftp as unknown as { _extensions?: Record<string, unknown> })._extensions;
    this.#openssh = Object.keys(extensions ?? {}).some((name) => name.endsWith("@openssh.com"));
  }

  /** The whole content of the file at `path`. */
  readFile(path: string): Promise<Uint8Array> {
    return this.#call(
      "readFile",
      path,
      (done) =>
        this.#sftp.readFile(
          path,
          (error: Error | undefined, data: Buffer) =>
            done(error, new Uint8Array(data.buffer, data.byteOffset, data.byteLength)),
        ),
    );
  }

  /**
   * Creates or replaces the file at `path` with `data` (a string is written
   * as UTF-8).
   */
  writeFile(
    path: string,
    data: Uint8Array | string,
    options: { mode?: number } = {},
  ): Promise<void> {
    const bytes = typeof data === "string" ? Buffer.from(data, "utf8") : Buffer.from(data);
    const flags = options.mode === undefined ? {} : { mode: options.mode };
    return this.#call(
      "writeFile",
      path,
      (done) => this.#sftp.writeFile(path, bytes, flags, (error?: Error | null) => done(error)),
    );
  }

  /** Creates the directory `path` (its parent must exist). */
  mkdir(path: string, options: { mode?: number } = {}): Promise<void> {
    const attributes = options.mode === undefined ? {} : { mode: options.mode };
    return this.#call("mkdir", path, (done) => this.#sftp.mkdir(path, attributes, done));
  }

  /** Removes the empty directory `path`. */
  rmdir(path: string): Promise<void> {
    return this.#call("rmdir", path, (done) => this.#sftp.rmdir(path, done));
  }

  /** Removes the file or symbolic link `path`. */
  unlink(path: string): Promise<void> {
    return this.#call("unlink", path, (done) => this.#sftp.unlink(path, done));
  }

  /** Renames `from` to `to`; fails if `to` exists (SFTP's rename, not POSIX's). */
  rename(from: string, to: string): Promise<void> {
    return this.#call("rename", from, (done) => this.#sftp.rename(from, to, done));
  }

  /** The absolute, canonical form of `path` (`"."` gives the home directory). */
  realpath(path: string): Promise<string> {
    return this.#call("realpath", path, (done) => this.#sftp.realpath(path, done));
  }

  /** Creates the symbolic link `path` pointing at `target`, as `ln -s target path`. */
  symlink(target: string, path: string): Promise<void> {
    return this.#call(
      "symlink",
      path,
      (done) =>
        this.#openssh
          ? this.#sftp.symlink(path, target, done)
          : this.#sftp.symlink(target, path, done),
    );
  }

  /** What the symbolic link `path` points at. */
  readlink(path: string): Promise<string> {
    return this.#call("readlink", path, (done) => this.#sftp.readlink(path, done));
  }

  /** What `path` is, following symbolic links. */
  stat(path: string): Promise<SftpStat> {
    return this.#call(
      "stat",
      path,
      (done) =>
        this.#sftp.stat(path, (error, stats) => done(error, error ? undefined : statOf(stats))),
    );
  }

  /** What `path` is, a symbolic link itself rather than its target. */
  lstat(path: string): Promise<SftpStat> {
    return this.#call(
      "lstat",
      path,
      (done) =>
        this.#sftp.lstat(path, (error, stats) => done(error, error ? undefined : statOf(stats))),
    );
  }

  /** The entries of the directory `path`, without `.` and `..`, in the server's order. */
  readdir(path: string): Promise<SftpEntry[]> {
    return this.#call("readdir", path, (done) =>
      this.#sftp.readdir(path, (error, list) =>
        done(
          error,
          error ? undefined : list
            .filter((entry) => entry.filename !== "." && entry.filename !== "..")
            .map((entry) => ({ name: entry.filename, ...statOf(entry.attrs as Stats) })),
        )));
  }

  /** Ends the SFTP session; resolves once its channel has closed. */
  close(): Promise<void> {
    this.#sftp.end();
    return this.#closed;
  }

  /** {@linkcode SftpClient.close}, for `await using`. */
  [Symbol.asyncDispose](): Promise<void> {
    return this.close();
  }

  /** Runs one request, and turns its error into a {@linkcode ClientError} naming it. */
  #call<T = void>(
    operation: string,
    path: string,
    run: (done: (error: Error | null | undefined, value?: T) => void) => void,
  ): Promise<T> {
    return new Promise<T>((resolve, reject) => {
      try {
        run((error, value) => {
          if (error) {
            reject(
              new ClientError("SFTP_FAILED", `Cannot ${operation} "${path}": ${error.message}`, {
                cause: error,
              }),
            );
          } else resolve(value as T);
        });
      } catch (error) {
        // ssh2 throws, instead of calling back, once the channel is gone.
        reject(new ClientError("CLIENT_CLOSED", `Cannot ${operation} "${path}": ${error}`));
      }
    });
  }
}

function statOf(stats: Stats): SftpStat {
  const type = stats.mode & 0o170000;
  return {
    size: stats.size,
    mode: stats.mode,
    mtime: stats.mtime,
    isFile: type === 0o100000,
    isDirectory: type === 0o040000,
    isSymbolicLink: type === 0o120000,
  };
}
