/** The bench's command line: sizes of the run, which parts run, and where the report goes. */
import { parseArgs } from "node:util";

/** How much to measure, and where to write the report. */
export interface Settings {
  quick: boolean;
  /** Report file (Markdown); none: print the summary only (a partial run). */
  out: string | undefined;
  /** Names of the parts that run; none: every part. */
  only: readonly string[] | undefined;
  /** Runs of `ssh host true` per target, after the warm-up runs. */
  trueRuns: number;
  /** Runs of connect-to-prompt per target. */
  promptRuns: number;
  /** Unrecorded runs before each latency figure. */
  warmupRuns: number;
  /** Size of the throughput blob (also the file SFTP moves). */
  blobBytes: number;
  /** Transfers per target and direction. */
  throughputRuns: number;
  /** SFTP `put`s and `get`s of the blob per target. */
  sftpRuns: number;
  /** Runs of `sftp` to the first listing per target, after the warm-up runs. */
  listingRuns: number;
  /** Sessions started at once, per level. */
  concurrency: number[];
  /** Idle authenticated connections for the memory figure. */
  idleConnections: number;
  /** Transfers through each `ssh -L` tunnel, after one warm-up transfer. */
  tunnelRuns: number;
  /** Copies of the blob each tunnel transfer moves, back to back. */
  tunnelCopies: number;
}

const MIB = 2 ** 20;

/** `words` joined with ", " in lines of at most `width` characters, each after `indent`. */
function wrapList(words: readonly string[], indent: string, width = 78): string {
  const lines: string[] = [];
  let line = "";
  for (const [i, word] of words.entries()) {
    const item = i < words.length - 1 ? `${word},` : word;
    if (line !== "" && indent.length + line.length + 1 + item.length > width) {
      lines.push(line);
      line = item;
    } else line = line === "" ? item : `${line} ${item}`;
  }
  if (line !== "") lines.push(line);
  return lines.map((l) => indent + l).join("\n");
}

/** Text of `--help`, naming the parts `--only` can pick. */
export function usage(parts: readonly string[]): string {
  const indent = " ".repeat(19);
  return `Usage: deno task bench [--quick] [--only PART,...] [--out FILE]

Starts capsule, OpenSSH and Docker alternatives on 127.0.0.1, measures them
against each other, writes a Markdown report and prints a summary.

  --quick          fewer runs and a 32 MiB blob (a smoke run, about 2 minutes)
  --only PART,...  run only these parts, and write no report unless --out is
                   given; the parts, in the order they run:
${wrapList(parts, indent)}
  --out FILE       where to write the report (default: BENCHMARKS.md in the
                   repository for a whole run)
  -h, --help       this text
`;
}

function parseOnly(value: string | undefined, known: readonly string[]): string[] | undefined {
  if (value === undefined) return undefined;
  const parts = value.split(",").map((p) => p.trim()).filter((p) => p !== "");
  if (parts.length === 0 || parts.some((p) => !known.includes(p))) {
    throw new TypeError(`--only takes parts among ${known.join(", ")}: got "${value}"`);
  }
  return parts;
}

/**
 * Parses the command line.
 *
 * @param parts the names of the parts of a run, which `--only` picks from
 * @returns the settings, or `undefined` when `--help` was asked
 * @throws {TypeError} on an unknown flag or part
 */
export function parseSettings(
  args: string[],
  options: { root: string; parts: readonly string[] },
): Settings | undefined {
  const { values } = parseArgs({
    args,
    options: {
      quick: { type: "boolean", default: false },
      out: { type: "string" },
      only: { type: "string" },
      help: { type: "boolean", short: "h", default: false },
    },
    strict: true,
    allowPositionals: false,
  });
  if (values.help) return undefined;
  const only = parseOnly(values.only, options.parts);
  // A partial run must not overwrite the whole run's report by default.
  const out = values.out ?? (only === undefined ? `${options.root}BENCHMARKS.md` : undefined);
  return values.quick
    ? {
      quick: true,
      out,
      only,
      trueRuns: 10,
      promptRuns: 6,
      warmupRuns: 2,
      blobBytes: 32 * MIB,
      throughputRuns: 1,
      sftpRuns: 2,
      listingRuns: 5,
      concurrency: [10, 20],
      idleConnections: 20,
      tunnelRuns: 2,
      tunnelCopies: 2,
    }
    : {
      quick: false,
      out,
      only,
      trueRuns: 40,
      promptRuns: 20,
      warmupRuns: 3,
      blobBytes: 256 * MIB,
      throughputRuns: 5,
      sftpRuns: 5,
      listingRuns: 10,
      concurrency: [50, 100],
      idleConnections: 20,
      tunnelRuns: 5,
      tunnelCopies: 2,
    };
}
