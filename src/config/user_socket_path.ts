/** The socket's name inside a user's directory. */
export const USER_SOCKET_NAME = "capsule.sock";

/** A user name as the config's `users` keys spell it. */
export const USER_NAME = /^[A-Za-z_][A-Za-z0-9_.-]{0,31}$/;

/**
 * The daemon's socket for `user`: `DIR/USER/capsule.sock` (the daemon's
 * `server.userSockets` makes it; `capsule spawn` connects to it).
 */
export function userSocketPath(dir: string, user: string): string {
  return `${dir.replace(/\/+$/, "")}/${user}/${USER_SOCKET_NAME}`;
}
