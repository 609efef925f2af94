/**
 * capsule as a library: start the server from code, or serve one SSH
 * connection over any duplex stream.
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
 * @module
 */
export { type Capsule, startCapsule, type StartCapsuleOptions } from "./src/library/capsule.ts";
