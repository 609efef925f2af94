import type { PullPolicy } from "../config/types.ts";
import type { ToolSet } from "../tools/mod.ts";

/** A bind mount of a host path into a container. */
export interface BindMount {
  source: string;
  target: string;
  readOnly: boolean;
}

/** Everything the runtime needs to create one session container. */
export interface ContainerSpec {
  /** Container name, unique on the engine. */
  name: string;
  image: string;
  /** The process to run as PID 1's child: e.g. `["/bin/sh", "-c", "echo hi"]`. */
  cmd: string[];
  /** A POSIX shell in the image; with a TTY, it holds `cmd` back until the TTY has its size. */
  shell: string;
  /** `NAME=value` entries. */
  env: string[];
  /** Allocate a TTY (stdout and stderr are then one stream). */
  tty: boolean;
  /** Initial TTY size, applied right after start. */
  size?: { cols: number; rows: number };
  labels: Record<string, string>;
  workdir: string;
  user: string;
  hostname: string;
  /** Bytes; 0 for no limit. */
  memory: number;
  /** CPUs; 0 for no limit. */
  cpus: number;
  /** Processes; 0 for no limit. */
  pids: number;
  /** `none`, `bridge` or a network name. */
  network: string;
  mounts: BindMount[];
  /** Capabilities added back after all are dropped. */
  capAdd: string[];
  /** Set `no-new-privileges`. */
  noNewPrivileges: boolean;
  /** Run privileged (the config allows it only when named unsafe). */
  privileged: boolean;
  /**
   * Most bytes the container may write into its own filesystem; 0 for no
   * limit. Enforced by the engine's storage quota once
   * {@linkcode ContainerRuntime.enableDiskQuota} said yes; otherwise the
   * server watches the size (see `src/limits/disk_watcher.ts`).
   */
  disk: number;
  /** Mount the image's root filesystem read-only. */
  readOnlyRootfs: boolean;
  /** Size-limited tmpfs mounts: container path to bytes. */
  tmpfs: Record<string, number>;
  /** Resource limits of the container's processes, e.g. `nofile`, `nproc`. */
  ulimits: Record<string, { soft: number; hard: number }>;
}

/** A process to run inside a container that is already running. */
export interface ExecSpec {
  /**
   * Unique among the container's execs (the session id): names the file
   * that records the process's pid, so that signals can reach it.
   */
  id: string;
  /** A POSIX shell in the image; it records the pid, then becomes `cmd`. */
  shell: string;
  cmd: string[];
  /** `NAME=value` entries, on top of the container's own. */
  env: string[];
  tty: boolean;
  /** Initial TTY size, applied right after start. */
  size?: { cols: number; rows: number };
  /** Empty for the container's. */
  workdir: string;
  /** Empty for the container's. */
  user: string;
}

/** One chunk of a process's output. */
export interface OutputChunk {
  stream: "stdout" | "stderr";
  data: Uint8Array;
}

/** How a container's process ended. */
export interface ExitResult {
  /** Exit code as the engine reports it (128 + n when killed by signal n). */
  code: number;
  /** The kernel's OOM killer ended it. */
  oomKilled: boolean;
}

/** A started container process with its streams. */
export interface RunningProcess {
  /** Engine id of the container. */
  readonly containerId: string;
  /**
   * The process's output, pulled one chunk at a time: the source is paused
   * until the consumer asks for the next chunk, so a slow consumer slows the
   * container down instead of filling memory. Ends when the process exits.
   */
  readonly output: AsyncIterable<OutputChunk>;
  /** Writes to the process's stdin; resolves once the engine took the bytes. */
  writeStdin(data: Uint8Array): Promise<void>;
  /** Closes the process's stdin (EOF). */
  closeStdin(): Promise<void>;
  /** Resizes the TTY. */
  resize(size: { cols: number; rows: number }): Promise<void>;
  /** Sends a signal (`INT`, `TERM`, ...) to the process. */
  signal(name: string): Promise<void>;
  /** Resolves with the exit result once the output has ended. */
  wait(): Promise<ExitResult>;
  /**
   * Lets go of the process: its streams are dropped (the output ends) and,
   * for a process exec'd into a container that stays, it gets `SIGHUP` if
   * still running, as when a terminal hangs up, and its pid file goes.
   * `containerGoing`: the container is about to be removed, so nothing in it
   * needs tidying. Idempotent.
   */
  close(options?: { containerGoing?: boolean }): Promise<void>;
}

/** A container as {@linkcode ContainerRuntime.list} reports it. */
export interface ContainerSummary {
  id: string;
  labels: Record<string, string>;
  /** Bytes written into the container's own filesystem, when asked for (`size: true`). */
  sizeRw?: number;
  /** Creation time, milliseconds since the epoch. */
  createdMs: number;
  /** Whether it is running (absent when the runtime cannot tell). */
  running?: boolean;
}

/** How far a pull has come, as a user waiting for it sees it. */
export interface PullProgress {
  image: string;
  /** `pulling` until the pull ends `done` or `failed`. */
  state: "pulling" | "done" | "failed";
  /** Bytes of the image's layers downloaded so far. */
  current: number;
  /** Bytes of the layers known so far (more may be announced). */
  total: number;
}

/** Options of {@linkcode ContainerRuntime.ensureImage}. */
export interface EnsureImageOptions {
  policy: PullPolicy;
  /** Called as a pull the caller waits for makes progress; not called when none is needed. */
  onProgress?: (progress: PullProgress) => void;
}

/**
 * Credentials for one registry, handed to the engine with a pull from it.
 * Either `username` and `password`, or `identityToken`.
 */
export interface RegistryAuth {
  /** The registry they are for (`registry.example:5000`). */
  serverAddress: string;
  username?: string;
  password?: string;
  identityToken?: string;
}

/** One progress message of the engine about one layer of a pull. */
export interface PullEvent {
  /** The layer's short id. */
  layer: string;
  /** `Pulling fs layer`, `Downloading`, `Download complete`, `Extracting`, `Pull complete`... */
  status: string;
  /** Bytes done and in all, for `Downloading` and `Extracting`. */
  current?: number;
  total?: number;
}

/** Options of {@linkcode ContainerRuntime.pullImage}. */
export interface PullImageOptions {
  /** Sent to the engine for this pull only. */
  auth?: RegistryAuth;
  onEvent?: (event: PullEvent) => void;
}

/**
 * The container engine as capsule sees it. {@linkcode DockerRuntime} is the
 * real implementation; tests use a fake.
 */
export interface ContainerRuntime {
  /** Throws a `CapsuleError` with code `ENGINE_UNREACHABLE` when the engine does not answer. */
  ping(): Promise<void>;
  /** Makes sure `image` is present, pulling it as the policy says. */
  ensureImage(image: string, options: EnsureImageOptions): Promise<void>;
  /** Whether the engine has `image`. */
  hasImage(image: string): Promise<boolean>;
  /**
   * Pulls `image` from its registry once.
   *
   * @throws {CapsuleError} `IMAGE_PULL_DENIED`, `REGISTRY_UNREACHABLE`,
   *   `IMAGE_NOT_FOUND` (no such repository or tag), `IMAGE_PULL_FAILED`, or
   *   `ENGINE_UNREACHABLE`; the user message never holds credentials
   */
  pullImage(image: string, options?: PullImageOptions): Promise<void>;
  /**
   * Creates the container, attaches to it, starts it and returns the running
   * process. The container is not removed automatically: call `remove`.
   */
  run(spec: ContainerSpec): Promise<RunningProcess>;
  /**
   * Creates and starts a container that runs `spec.cmd` with stdin held open
   * and nothing attached (a shell then waits for input for good), for
   * sessions to be exec'd into. Returns the container id; call `remove`.
   */
  start(spec: ContainerSpec): Promise<string>;
  /**
   * Runs a process in a running container and returns it attached. Signals
   * reach it through the pid it records (the engine has no API to signal an
   * exec'd process).
   */
  exec(containerId: string, spec: ExecSpec): Promise<RunningProcess>;
  /** Force-removes a container; a container that is already gone is not an error. */
  remove(containerId: string): Promise<void>;
  /**
   * Lists containers (running or not) that carry all of these labels; with
   * `size`, each with the bytes in its writable layer (the engine walks them).
   */
  list(labels: Record<string, string>, options?: { size?: boolean }): Promise<ContainerSummary[]>;
  /**
   * Finds out whether the engine can cap a container's writable layer (a
   * storage quota: overlay2 on xfs with `pquota`, btrfs, zfs...) by creating
   * and removing a container of `image`, and if so applies `spec.disk` as
   * that quota from then on.
   *
   * @returns whether the quota is now in force
   */
  enableDiskQuota(image: string): Promise<boolean>;
  /**
   * Puts this build of capsule's static tools on the engine (a volume filled
   * once, using a created container of `image`), and from then on mounts it
   * read-only at `/.capsule` in every container it creates, with
   * `/.capsule/bin` last in their PATH.
   *
   * @returns the volume's name
   */
  installTools(tools: ToolSet, image: string): Promise<string>;
}
