/** The bench's command line: sizes of the run and where the report goes. */
import { parseArgs } from "node:util";

/** How much to measure, and where to write the report. */
export interface Settings {
  quick: boolean;
  /** Report file (Markdown). */
  out: string;
  /** Runs of `ssh host true` per target, after the warm-up runs. */
  trueRuns: number;
  /** Runs of connect-to-prompt per target. */
  promptRuns: number;
  /** Unrecorded runs before each latency figure. */
  warmupRuns: number;
  /** Size of the throughput blob. */
  blobBytes: number;
  /** Transfers per target and direction. */
  throughputRuns: number;
  /** Sessions started at once, per level. */
  concurrency: number[];
  /** Idle authenticated connections for the memory figure. */
  idleConnections: number;
}

const MIB = 2 ** 20;

/** Text of `--help`. */
export const USAGE = `Usage: deno task bench [--quick] [--out FILE]

Starts capsule, OpenSSH and Docker alternatives on 127.0.0.1, measures them
against each other, writes a Markdown report and prints a summary.

  --quick      fewer runs and a 32 MiB blob (a smoke run, about 1.5 minutes)
  --out FILE   where to write the report (default: BENCHMARKS.md in the repository)
  -h, --help   this text
`;

/**
 * Parses the command line.
 *
 * @returns the settings, or `undefined` when `--help` was asked
 * @throws {TypeError} on an unknown flag
 */
export function parseSettings(args: string[], root: string): Settings | undefined {
  const { values } = parseArgs({
    args,
    options: {
      quick: { type: "boolean", default: false },
      out: { type: "string" },
      help: { type: "boolean", short: "h", default: false },
    },
    strict: true,
    allowPositionals: false,
  });
  if (values.help) return undefined;
  const out = values.out ?? `${root}BENCHMARKS.md`;
  return values.quick
    ? {
      quick: true,
      out,
      trueRuns: 10,
      promptRuns: 6,
      warmupRuns: 2,
      blobBytes: 32 * MIB,
      throughputRuns: 1,
      concurrency: [10, 20],
      idleConnections: 20,
    }
    : {
      quick: false,
      out,
      trueRuns: 40,
      promptRuns: 20,
      warmupRuns: 3,
      blobBytes: 256 * MIB,
      throughputRuns: 5,
      concurrency: [50, 100],
      idleConnections: 20,
    };
}
