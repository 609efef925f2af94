/** Everything one bench run measured, as the report reads it. */
import type { MachineInfo } from "./machine.ts";
import type { Settings } from "./settings.ts";

/** Latencies of repeated runs, in milliseconds; failed runs are counted, not timed. */
export interface Series {
  attempts: number;
  /** Wall times of the runs that succeeded. */
  samples: number[];
  /** One line per failed run. */
  failures: string[];
}

/** `ssh host 'exit 3'` must end with status 3. */
export interface ExitCheck {
  expected: number;
  got: number;
  ok: boolean;
}

/** One byte-exact transfer of the blob. */
export interface ThroughputRun {
  ms: number;
  /** Bytes that arrived (stdout), or were sent (stdin). */
  bytes: number;
  /** Exit status 0, every byte, and the right SHA-256. */
  ok: boolean;
  error?: string;
  /** CPU milliseconds used during the transfer, by process name (`capsule`, `dockerd`). */
  cpuMs?: Record<string, number>;
  /** The whole command (session set-up and teardown included), when `ms` is the transfer alone. */
  wallMs?: number;
  /** Share of the machine's CPU time (all cores) that was busy during the run, 0 to 1. */
  machineBusy?: number;
}

/** One transfer of the recording part: a throughput run, and what was recorded of it. */
export interface RecordingRun extends ThroughputRun {
  /** Bytes of asciicast the session left (recording variants only). */
  castBytes?: number;
  /** capsule logged `recording.stopped` during the run (the recording fell behind or failed). */
  recordingStopped?: boolean;
}

/** The SFTP figures of one target. */
export interface SftpFigures {
  /** From starting `sftp` to the first listing of a directory (`sftp -b` with one `ls`). */
  listing: Series;
  /** Uploads of the blob (`put`), each checked by SHA-256 on the host. */
  put: ThroughputRun[];
  /** Downloads of the blob (`get`), each checked by SHA-256. */
  get: ThroughputRun[];
}

/** Sessions started all at once. */
export interface ConcurrencyRun {
  sessions: number;
  /** Sessions that printed exactly `ok` and exited 0. */
  ok: number;
  /** Latencies of those sessions, in milliseconds. */
  latencies: number[];
  /** From the first spawn to the last exit. */
  wallMs: number;
  /** Distinct failure lines with their counts. */
  failures: string[];
  /** Containers of the target (beyond its warm pool) still present 60 s after the run. */
  leftContainers: number;
  /** CPU milliseconds used during the run, by process name (`capsule`, `dockerd`). */
  cpuMs?: Record<string, number>;
  /** RSS of the server just before the run, for capsule. */
  rssBeforeKiB?: number;
  /** Peak RSS of the server during the run, for capsule. */
  peakRssKiB?: number;
  /** For capsule: milliseconds of each phase per session, from its log (`capsulePhases`). */
  phases?: Record<string, number[]>;
  /** For capsule: how late its event loop ran during the run. */
  loopDelay?: LoopDelay;
}

/** What capsule's event-loop probe (a 100 ms timer) saw during a figure. */
export interface LoopDelay {
  /** Probes that fired. */
  probes: number;
  /** Probes that fired more than 10 ms late. */
  over10ms: number;
  /** Histogram bounds (ms) under which half, 99% and all of the probes' delays fell. */
  p50BoundMs: number;
  p99BoundMs: number;
  maxBoundMs: number;
}

/** capsule's resident memory. */
export interface MemoryFigures {
  /** Shortly after start, before any connection. */
  idleKiB: number;
  /** Connections asked for, and how many authenticated. */
  connections: number;
  connected: number;
  /** With `connected` idle authenticated connections open. */
  withConnectionsKiB: number;
}

/** Whether a target could be started, and why not. */
export type Availability = { ok: true } | { ok: false; reason: string };

/** One thing measured. */
export interface TargetInfo {
  id: string;
  label: string;
  description: string;
  availability: Availability;
}

/** The whole run. */
export interface BenchResults {
  settings: Settings;
  machine: MachineInfo | undefined;
  targets: TargetInfo[];
  sshTrue: Record<string, Series>;
  exitStatus: Record<string, ExitCheck>;
  prompt: Record<string, Series>;
  stdout: Record<string, ThroughputRun[]>;
  stdin: Record<string, ThroughputRun[]>;
  concurrency: Record<string, ConcurrencyRun[]>;
  memory: Record<string, MemoryFigures>;
  sftp: Record<string, SftpFigures>;
  /** Transfers through a local forward (`ssh -L`), per tunnel target. */
  tunnel: Record<string, ThroughputRun[]>;
  /** stdout through a PTY, per recording variant (`RECORDING_TARGETS`). */
  recording: Record<string, RecordingRun[]>;
  /** Connect to first prompt with an image from a registry: pulled first, or already there. */
  pull: Record<string, Series>;
  /** Per target, per phase name: milliseconds of each `ssh host true` (or lifecycle) run. */
  phases: Record<string, Record<string, number[]>>;
  /** Per capsule target: sessions of the `ssh host true` figure by container kind (`pool`, `session`). */
  containerModes: Record<string, Record<string, number>>;
  /** Facts about the set-up worth a line in the report. */
  notes: string[];
  /** Parts of the run that failed as a whole. */
  errors: string[];
  cleanup: {
    /** Containers of earlier bench runs removed before starting. */
    before: number;
    /** Containers the bench had to remove at the end (none should be left). */
    atEnd: number;
    /** Clean-up steps that failed. */
    errors: string[];
  };
  durationMs: number;
}

/** An empty result for a run with `settings`. */
export function emptyResults(settings: Settings): BenchResults {
  return {
    settings,
    machine: undefined,
    targets: [],
    sshTrue: {},
    exitStatus: {},
    prompt: {},
    stdout: {},
    stdin: {},
    concurrency: {},
    memory: {},
    sftp: {},
    tunnel: {},
    recording: {},
    pull: {},
    phases: {},
    containerModes: {},
    notes: [],
    errors: [],
    cleanup: { before: 0, atEnd: 0, errors: [] },
    durationMs: 0,
  };
}
