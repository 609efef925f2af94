import type { LogFormat, LogLevel } from "../log/mod.ts";

/** When the runtime pulls a session's image. */
export type PullPolicy = "if-not-present" | "always" | "never";

/**
 * How sessions map to containers: one per session channel, one per SSH
 * connection, or one per user kept between connections.
 */
export type ContainerMode = "session" | "connection" | "persistent";

/** Containers started ahead of time, each handed to one session. */
export interface PoolConfig {
  /** How many to keep ready; 0 for no pool. */
  size: number;
}

/** A bind mount from the host into a session container. */
export interface MountConfig {
  /** Absolute path on the host (`~` is expanded). */
  source: string;
  /** Absolute path in the container. */
  target: string;
  /** Mount read-only (default `false`). */
  readOnly: boolean;
}

/** How a session's container is built. Global defaults, overridable per user. */
export interface ContainerConfig {
  /** Image reference, e.g. `busybox` or `busybox:1.36`. */
  image: string;
  /** When to pull the image. */
  pull: PullPolicy;
  /** Shell for `shell` requests, and the interpreter for `exec` (`<shell> -c <command>`). */
  shell: string;
  /** Extra environment variables set in every session container. */
  env: Record<string, string>;
  /** Bind mounts. */
  mounts: MountConfig[];
  /** Working directory in the container; empty for the image's default. */
  workdir: string;
  /** User in the container (`uid`, `uid:gid` or a name); empty for the image's default. */
  user: string;
  /** Memory limit in bytes; 0 for none. In YAML a size such as `256m`. */
  memory: number;
  /** CPU limit in CPUs (fractions allowed); 0 for none. */
  cpus: number;
  /** Maximum number of processes; 0 for none. */
  pids: number;
  /** Docker network mode: `none`, `bridge`, or a network name. */
  network: string;
  /** Hostname of the container; empty for the engine's default. */
  hostname: string;
  /** Capabilities added back after all are dropped, e.g. `CHOWN`. */
  capAdd: string[];
  /** Forbid gaining privileges through setuid binaries (`no-new-privileges`). */
  noNewPrivileges: boolean;
  /** Run privileged: refused unless `unsafe.privileged` is set. */
  privileged: boolean;
  /** Seconds without input or output before a session is ended; 0 for no limit. */
  idleTimeout: number;
  /** Seconds a session may last; 0 for no limit. */
  maxSessionTime: number;
  /** How sessions map to containers. */
  mode: ContainerMode;
  /** `persistent` mode: seconds a user's container is kept after their last session and connection end. */
  gracePeriod: number;
  /** Seconds a container may exist, whatever uses it; 0 for no limit. */
  maxLifetime: number;
  /** Warm pool for `session` mode. */
  pool: PoolConfig;
}

/** Per-source penalties: seconds added per event, refused while above `min`, capped at `max`. */
export interface PenaltyConfig {
  enabled: boolean;
  /** A connection that failed authentication and never succeeded. */
  authFail: number;
  /** A connection closed without any authentication attempt. */
  noAuth: number;
  /** A connection cut by the login timeout. */
  loginTimeout: number;
  /** A source is refused while its penalty exceeds this. */
  min: number;
  /** The most a penalty can grow to. */
  max: number;
}

/** Settings that weaken isolation; each must be named to be allowed. */
export interface UnsafeConfig {
  /** Allow `container.privileged: true`. */
  privileged: boolean;
  /** Allow the host's namespaces (`container.network: host`). */
  hostNamespaces: boolean;
  /** Allow bind-mounting the container engine's socket. */
  engineSocket: boolean;
}

/** A user allowed to log in. */
export interface UserConfig {
  /** Salted scrypt hash made by `capsule hash-password`; absent for key-only users. */
  passwordHash?: string;
  /** Public keys in authorized_keys line format. */
  authorizedKeys: string[];
  /** Paths of authorized_keys files (`~` is expanded). */
  authorizedKeysFiles: string[];
  /** Overrides of the global container settings for this user. */
  container: Partial<ContainerConfig>;
}

/** The whole configuration after layering and validation. */
export interface Config {
  server: {
    /** `host:port` to listen on, e.g. `127.0.0.1:2222` or `[::1]:2222`. */
    listen: string;
    /** Paths of host private key files; empty to generate one in `stateDir`. */
    hostKeys: string[];
    /** Directory for generated state such as host keys (`~` is expanded). */
    stateDir: string;
    /** Text shown before authentication; empty for none. */
    banner: string;
    /** Seconds from accept to successful authentication. */
    loginTimeout: number;
    /** Failed authentication attempts before the connection is closed. */
    maxAuthTries: number;
    /** `start:rate:full` random early drop of unauthenticated connections, as OpenSSH's MaxStartups. */
    maxStartups: string;
    /** Unauthenticated connections one source address may hold. */
    maxStartupsPerSource: number;
    /** Session channels open at once per connection. */
    maxSessions: number;
    /** Seconds an authenticated connection may stay without a channel; 0 for no limit. */
    idleTimeout: number;
    /** Seconds between keepalive probes. */
    keepaliveInterval: number;
    /** Unanswered keepalives before the connection is dropped. */
    keepaliveCountMax: number;
    /** Per-source penalties, as OpenSSH's PerSourcePenalties (seconds). */
    penalties: PenaltyConfig;
    /**
     * Name of this server's containers on the engine; empty to use `listen`.
     * Servers sharing an engine must differ: each removes only its own orphans.
     */
    instance: string;
    /** Seconds sessions may run on after SIGTERM before they are closed. */
    drainTimeout: number;
    /** Seconds between sweeps for containers no live session owns. */
    sweepInterval: number;
  };
  log: {
    level: LogLevel;
    format: LogFormat;
  };
  auth: {
    /** Accept public keys from these files for any user name; empty to disable. */
    anyUserKeysFiles: string[];
  };
  session: {
    /** Names (`*` at the end allowed) of client `env` variables passed to the container. */
    envAllow: string[];
  };
  docker: {
    /** Engine address; empty for `DOCKER_HOST` or the default socket. */
    host: string;
  };
  /** Global container settings. */
  container: ContainerConfig;
  /** Users by name. */
  users: Record<string, UserConfig>;
  /** Explicit permission for settings that weaken isolation. */
  unsafe: UnsafeConfig;
}
