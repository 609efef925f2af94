import { z } from "zod";
import { MountConfig } from "./mount_schema.ts";
import { size } from "./size_schema.ts";
import { UlimitsConfig } from "./ulimits_schema.ts";
import {
  absolutePath,
  boolean,
  integer,
  list,
  matching,
  nonEmptyString,
  number,
  object,
  oneOf,
  record,
  string,
} from "./value_schemas.ts";

/** The most containers a warm pool may hold ready per profile. */
const MAX_POOL = 64;

/** Docker refuses memory limits under 6 MiB. */
const MIN_MEMORY = 6 * 2 ** 20;

/** An absolute path in the container, without ".." segments. */
const TMPFS_TARGET = /^(?:\/(?!\.\.(?:\/|$))[^/]+)+\/?$/;

const HOSTNAME =
  /^(?:[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?(?:\.[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?)*)?$/;

/** When the runtime pulls a session's image. */
export const PullPolicy = oneOf(["if-not-present", "always", "never"]);
/** When the runtime pulls a session's image. */
export type PullPolicy = z.output<typeof PullPolicy>;

/**
 * How sessions map to containers: one per session channel, one per SSH
 * connection, or one per user kept between connections.
 */
export const ContainerMode = oneOf(["session", "connection", "persistent"]);
/** How sessions map to containers. */
export type ContainerMode = z.output<typeof ContainerMode>;

/** Containers started ahead of time, each handed to one session. */
export const PoolConfig = object({
  size: integer({ min: 0, max: MAX_POOL }).describe("How many to keep ready; 0 for no pool."),
});
/** Containers started ahead of time, each handed to one session. */
export type PoolConfig = z.output<typeof PoolConfig>;

/** The `sftp` subsystem (SFTP clients, OpenSSH 9's scp, IDEs). */
export const SftpConfig = object({
  enabled: boolean()
    .describe("Serve the `sftp` subsystem; when off, clients get a clean refusal.")
    .default(true),
  readOnly: boolean()
    .describe("Serve it read-only (sftp-server's `-R`): downloads only.")
    .default(false),
});
/** The `sftp` subsystem. */
export type SftpConfig = z.output<typeof SftpConfig>;

/** Forwarding into the container; each kind is off unless turned on. */
export const ForwardingConfig = object({
  local: boolean()
    .describe(
      "Local and dynamic forwarding (`ssh -L`, `ssh -D`) to addresses and sockets as the container sees them.",
    )
    .default(false),
  remote: boolean()
    .describe(
      "Remote forwarding (`ssh -R`): a listener inside the container whose connections reach the client.",
    )
    .default(false),
  gatewayPorts: boolean()
    .describe(
      "Let `ssh -R` listen on the address the client names (`*` or empty: all of the container's); otherwise on the container's loopback only, as OpenSSH's `GatewayPorts no`.",
    )
    .default(false),
  agent: boolean()
    .describe(
      "Agent forwarding (`ssh -A`): `SSH_AUTH_SOCK` in the container reaches the client's agent.",
    )
    .default(false),
});
/** Forwarding into the container. */
export type ForwardingConfig = z.output<typeof ForwardingConfig>;

/**
 * How a session's container is built: the global settings, overridable per
 * user. Every key has its default, so a file sets only what it changes.
 */
export const ContainerConfig = object({
  image: nonEmptyString()
    .describe("Image reference, e.g. `busybox` or `busybox:1.36`.")
    .default("busybox"),
  pull: PullPolicy.describe("When to pull the image.").default("if-not-present"),
  shell: absolutePath("/bin/sh")
    .describe("Shell for interactive sessions; commands run as `<shell> -c <command>`.")
    .default("/bin/sh"),
  env: record(string(), {
    pattern: /^[A-Za-z_][A-Za-z0-9_]*$/,
    expected: `a variable name like "LANG"`,
  }).describe("Extra environment variables set in every session container.").default({}),
  mounts: list(MountConfig)
    .describe('Bind mounts: "source:target", "source:target:ro" or { source, target, readOnly }.')
    .default([]),
  workdir: matching(/^(?:\/|$)/, `"" or an absolute path like "/work"`)
    .describe("Working directory in the container; empty for the image's default.")
    .default(""),
  user: string()
    .describe("User in the container (`uid`, `uid:gid` or a name); empty for the image's default.")
    .default(""),
  memory: size()
    .refine((bytes) => bytes === 0 || bytes >= MIN_MEMORY, {
      error: `0 (no limit) or a size of at least "6m" (Docker's minimum), like "512m"`,
    })
    .describe('Memory limit, e.g. "512m"; 0 for none. No swap beyond it.')
    .prefault("512m"),
  cpus: number({ min: 0 })
    .describe("CPU limit in CPUs (fractions allowed); 0 for none.")
    .default(1),
  pids: integer({ min: 0 }).describe("Maximum number of processes; 0 for none.").default(256),
  disk: size()
    .describe(
      'Most bytes the container may write into its own filesystem (its writable layer), e.g. "1g"; 0 for no limit.',
    )
    .prefault("1g"),
  ulimits: UlimitsConfig
    .describe(
      'Resource limits of the processes: each an integer, "soft:hard" or { soft, hard }. A user\'s ulimits merge key by key with the global ones.',
    )
    .prefault({ nofile: "1024:4096", nproc: "4096:4096" }),
  tmpfs: record(
    size().refine((bytes) => bytes > 0, { error: `a size above 0, like "64m"` }),
    { pattern: TMPFS_TARGET, expected: `an absolute path without "..", like "/tmp"` },
  )
    .describe(
      "Size-limited tmpfs mounts by absolute path in the container; what they hold counts against `memory`.",
    )
    .default({}),
  readOnlyRootfs: boolean()
    .describe("Mount the image's root filesystem read-only (mounts and tmpfs stay writable).")
    .default(false),
  network: nonEmptyString()
    .describe("Docker network mode: `none`, `bridge`, or a network name.")
    .default("none"),
  hostname: matching(HOSTNAME, `"" or a host name like "capsule"`)
    .describe("Hostname of the container; empty for the engine's default.")
    .default("capsule"),
  capAdd: list(
    nonEmptyString().regex(/^(?:CAP_)?[A-Z_]+$/, { error: `a capability name like "CHOWN"` }),
  ).describe("Capabilities added back after all are dropped, e.g. `CHOWN`.").default([]),
  noNewPrivileges: boolean()
    .describe("Forbid gaining privileges through setuid binaries (`no-new-privileges`).")
    .default(true),
  privileged: boolean()
    .describe("Run privileged: refused unless `unsafe.privileged` is set.")
    .default(false),
  idleTimeout: integer({ min: 0 })
    .describe("Seconds without input or output before a session is ended; 0 for no limit.")
    .default(0),
  maxSessionTime: integer({ min: 0 })
    .describe("Seconds a session may last; 0 for no limit.")
    .default(0),
  mode: ContainerMode.describe(
    "How sessions map to containers: one per session, per connection, or per user (persistent).",
  ).default("session"),
  gracePeriod: integer({ min: 0 })
    .describe("`persistent` mode: seconds a user's container is kept after their last session.")
    .default(60),
  maxLifetime: integer({ min: 0 })
    .describe("Seconds a container may exist, whatever uses it; 0 for no limit.")
    .default(0),
  pool: PoolConfig.describe("Warm pool for `session` mode.").default({ size: 0 }),
  forwarding: ForwardingConfig.describe(
    "Forwarding into the container (deny by default); replaced as a whole per user.",
  ).default({ local: false, remote: false, gatewayPorts: false, agent: false }),
  sftp: SftpConfig.describe("The `sftp` subsystem (SFTP, scp, IDEs); replaced as a whole per user.")
    .default({ enabled: true, readOnly: false }),
});
/** How a session's container is built. Global defaults, overridable per user. */
export type ContainerConfig = z.output<typeof ContainerConfig>;
