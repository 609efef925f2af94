/**
 * The library's in-process SSH client (`Capsule.openClient`): commands,
 * shells and SFTP in a user's container over an in-memory connection.
 *
 * The SSH client side of ssh2 lives here rather than in `src/ssh/`, which
 * is the server's edge: this folder and `src/ssh/` are the only importers
 * of ssh2, and nothing of the server depends on this one.
 */
export * from "./open_client.ts";
export * from "./capsule_client.ts";
export * from "./shell_session.ts";
export * from "./sftp_client.ts";
export * from "./client_error.ts";
export type { ExitStatus } from "./_exit_of.ts";
