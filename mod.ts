/**
 * capsule as a library: start the server from code, serve one SSH
 * connection over any duplex stream, or open an in-process SSH client to a
 * user's container (`openClient`: commands, shells, SFTP).
 *
 * @example Start capsule with a config object
 * ```ts
 * import { startCapsule } from "@capsule/server";
 *
 * const capsule = await startCapsule({
 *   server: { listen: "127.0.0.1:2222" },
 *   users: { alice: { authorizedKeysFiles: ["/home/alice/.ssh/authorized_keys"] } },
 * });
 * // ...
 * await capsule.close();
 * ```
 *
 * @example Run a command and copy a file in a user's container, in-process
 * ```ts
 * import { startCapsule } from "@capsule/server";
 *
 * const capsule = await startCapsule("/etc/capsule/config.yaml", { listen: false });
 * const client = await capsule.openClient("alice");
 * const { stdout, stderr, status } = await client.exec("make -C site");
 * const sftp = await client.sftp();
 * await sftp.writeFile("site/robots.txt", "User-agent: *\n");
 * await client.close(); // every channel, the connection and (in `session` mode) the containers
 * await capsule.close();
 * ```
 *
 * @module
 */
export { type Capsule, startCapsule, type StartCapsuleOptions } from "./src/library/capsule.ts";
export {
  CapsuleClient,
  ClientError,
  type ClientErrorCode,
  type ExecOptions,
  type ExecResult,
  type ExitStatus,
  type OpenClientOptions,
  type PtyOptions,
  SftpClient,
  type SftpEntry,
  type SftpStat,
  type ShellOptions,
  ShellSession,
} from "./src/client/mod.ts";
