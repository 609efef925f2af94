/** The things measured, by id. Capsule variants are a list: add or drop one here. */

/** OpenSSH with `ForceCommand /bin/true`: the cost of SSH alone. */
export const SSH_FLOOR = "ssh-floor";
/** The same, with the client pinned to curve25519-sha256 (the key exchange capsule uses). */
export const SSH_FLOOR_CURVE25519 = "ssh-floor-curve25519";
/** OpenSSH running the client's command on the host: SSH throughput without a container. */
export const SSH_HOST = "ssh-host";
/** Container lifecycle through the Docker API, no SSH. */
export const CONTAINER_FLOOR = "container-floor";
/** `docker run --rm -i` through the Docker CLI, capsule's container settings. */
export const DOCKER_CLI = "docker-cli";
/** `docker run --rm -i` through the Docker CLI with Docker's defaults (json-file log). */
export const DOCKER_CLI_DEFAULTS = "docker-cli-defaults";
/** OpenSSH whose ForceCommand is `docker run --rm -i busybox ...`. */
export const SSHD_DOCKER_RUN = "sshd-docker-run";

/** The plain capsule variant: the one the targets are about. */
export const CAPSULE = "capsule";
/** capsule with a warm pool of containers. */
export const CAPSULE_POOL = "capsule-pool";

/** One configuration of capsule to measure. */
export interface CapsuleVariant {
  id: string;
  label: string;
  description: string;
  /** Config merged over the bench's own. */
  config: Record<string, unknown>;
  /** Containers this variant keeps between sessions (its warm pool). */
  warmContainers: number;
}

/** The capsule variants measured, in order. */
export const CAPSULE_VARIANTS: readonly CapsuleVariant[] = [
  {
    id: CAPSULE,
    label: "capsule",
    description: "capsule with its default container settings (busybox, no network)",
    config: {},
    warmContainers: 0,
  },
  {
    id: CAPSULE_POOL,
    label: "capsule + warm pool",
    description: "the same with `container.pool.size: 4` (containers made ahead of logins)",
    config: { container: { pool: { size: 4 } } },
    warmContainers: 4,
  },
];

/** capsule, stdout on a PTY (`ssh -tt`), recording off: the baseline of the recording cost. */
export const RECORDING_OFF = "pty-recording-off";
/** The same with `recording.dir` set: every byte also goes into an asciicast file. */
export const RECORDING_ON = "pty-recording-on";
/** The same with the audit file on too. */
export const RECORDING_AUDIT = "pty-recording-audit";

/** A capsule of the recording part: its config, given the directory it may write into. */
export interface RecordingVariant {
  id: string;
  label: string;
  description: string;
  config: (dir: string) => Record<string, unknown>;
}

/** The variants of the recording part, the baseline first. */
export const RECORDING_VARIANTS: readonly RecordingVariant[] = [
  {
    id: RECORDING_OFF,
    label: "capsule, PTY, recording off",
    description: "capsule with its defaults, stdout through a PTY (`ssh -tt`, raw mode)",
    config: () => ({}),
  },
  {
    id: RECORDING_ON,
    label: "capsule, PTY, recording on",
    description: "the same with `recording.dir` set: the session is recorded (asciicast v2)",
    config: (dir) => ({ recording: { dir: `${dir}/casts` } }),
  },
  {
    id: RECORDING_AUDIT,
    label: "capsule, PTY, recording + audit on",
    description: "the same with `audit.file` set too",
    config: (dir) => ({ recording: { dir: `${dir}/casts` }, audit: { file: `${dir}/audit.log` } }),
  },
];

/** The recording part's targets, in the order of the report. */
export const RECORDING_TARGETS: readonly string[] = RECORDING_VARIANTS.map((v) => v.id);

/** SFTP through capsule (busybox, session mode). */
export const SFTP_CAPSULE = "sftp-capsule";
/** SFTP through OpenSSH whose subsystem runs `docker run --rm -i ... sftp-server`: a container per session. */
export const SFTP_DOCKER_RUN = "sftp-docker-run";
/** SFTP through OpenSSH whose subsystem runs `docker exec -i <one shared container> sftp-server`. */
export const SFTP_DOCKER_EXEC = "sftp-docker-exec";
/** OpenSSH's own SFTP (`internal-sftp`) on the host, no container: the floor. */
export const SFTP_HOST = "sftp-host";

/** The SFTP targets, in the order of the report. */
export const SFTP_TARGETS: readonly string[] = [
  SFTP_HOST,
  SFTP_CAPSULE,
  SFTP_DOCKER_RUN,
  SFTP_DOCKER_EXEC,
];

/** A local forward (`ssh -L`) through OpenSSH's sshd to a server on the host: the floor. */
export const TUNNEL_OPENSSH = "tunnel-openssh";
/** A local forward through capsule to a server in the session's container. */
export const TUNNEL_CAPSULE = "tunnel-capsule";

/** The tunnel targets, in the order of the report. */
export const TUNNEL_TARGETS: readonly string[] = [TUNNEL_OPENSSH, TUNNEL_CAPSULE];

/** capsule's first prompt when the session's image must first be pulled from a registry. */
export const PULL_COLD = "capsule-pull-cold";
/** The same image, already on the engine. */
export const PULL_PRESENT = "capsule-pull-present";
