/** Labels that mark a container as capsule's and say whose it is. */
export const LABELS = {
  /** Present (value `true`) on every container capsule creates. */
  managed: "io.capsule.managed",
  /** The SSH user the container serves. */
  user: "io.capsule.user",
  /** The session the container belongs to. */
  session: "io.capsule.session",
  /** The SSH connection the session came in on. */
  connection: "io.capsule.connection",
  /** The capsule server that owns the container (`server.instance`). */
  instance: "io.capsule.instance",
  /** `session`, `connection`, `persistent` or `pool`. */
  mode: "io.capsule.mode",
  /**
   * The capsule process that made it (see `processTokens()`): another process
   * of the same instance leaves it alone while that process lives.
   */
  process: "io.capsule.process",
  /** What keeps the container alive: a session id, `connection:<id>`, `user:<name>` or `pool:<id>`. */
  owner: "io.capsule.owner",
  /** When the container reaches its maximum lifetime, in milliseconds since the epoch. */
  expires: "io.capsule.expires",
  /** Most bytes the container may write into its own filesystem (`container.disk`). */
  disk: "io.capsule.disk",
} as const;
