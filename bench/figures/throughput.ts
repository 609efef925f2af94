/**
 * Figure: byte-exact throughput of the blob, out of the container (`cat`,
 * hashed as it arrives) and into it (`sha256sum` reading stdin).
 */
import { cpuMs, machineTicks } from "../cpu.ts";
import { firstLine, runHashed, runProcess } from "../process.ts";
import type { ThroughputRun } from "../results.ts";
import type { Workspace } from "../workspace.ts";

/** A command line: program and arguments. */
export type CommandLine = [string, string[]];

/** Runs a command that prints the blob; checks exit status, byte count and SHA-256. */
export async function stdoutRun(command: CommandLine, ws: Workspace): Promise<ThroughputRun> {
  const [cmd, args] = command;
  const result = await runHashed(cmd, args);
  const problems: string[] = [];
  if (result.timedOut) problems.push("timed out");
  if (result.code !== 0) problems.push(`exit ${result.code}: ${firstLine(result.stderr)}`);
  if (result.bytes !== ws.blobBytes) problems.push(`${result.bytes} of ${ws.blobBytes} bytes`);
  else if (result.sha256 !== ws.blobSha256) problems.push("SHA-256 differs");
  return {
    ms: result.ms,
    bytes: result.bytes,
    ok: problems.length === 0,
    ...(problems.length > 0 ? { error: problems.join("; ") } : {}),
  };
}

/** Feeds the blob to a command that prints its SHA-256 (`sha256sum`); checks the hash. */
export async function stdinRun(command: CommandLine, ws: Workspace): Promise<ThroughputRun> {
  const [cmd, args] = command;
  const result = await runProcess(cmd, args, { stdinFile: ws.blob, timeoutMs: 300_000 });
  const printed = result.stdout.trim().split(/\s+/)[0] ?? "";
  const problems: string[] = [];
  if (result.timedOut) problems.push("timed out");
  if (result.code !== 0) problems.push(`exit ${result.code}: ${firstLine(result.stderr)}`);
  if (printed !== ws.blobSha256) problems.push(`SHA-256 printed: ${JSON.stringify(printed)}`);
  return {
    ms: result.ms,
    bytes: ws.blobBytes,
    ok: problems.length === 0,
    ...(problems.length > 0 ? { error: problems.join("; ") } : {}),
  };
}

/** Processes whose CPU time is read around each transfer, by name. */
export type Watched = Record<string, number>;

/** CPU milliseconds each watched process has used so far, by name. */
export async function cpuOf(watched: Watched): Promise<Record<string, number | undefined>> {
  const entries = await Promise.all(
    Object.entries(watched).map(async ([name, pid]) => [name, await cpuMs(pid)] as const),
  );
  return Object.fromEntries(entries);
}

/** Repeats one kind of transfer `runs` times, reading the CPU time of `watched` around each. */
export async function measureThroughput(
  run: (command: CommandLine, ws: Workspace) => Promise<ThroughputRun>,
  command: CommandLine,
  ws: Workspace,
  runs: number,
  watched: Watched = {},
): Promise<ThroughputRun[]> {
  const results: ThroughputRun[] = [];
  for (let i = 0; i < runs; i++) {
    const before = await cpuOf(watched);
    const machineBefore = await machineTicks();
    const result = await run(command, ws);
    const machineAfter = await machineTicks();
    const after = await cpuOf(watched);
    const used: Record<string, number> = {};
    for (const name of Object.keys(watched)) {
      const a = before[name];
      const b = after[name];
      if (a !== undefined && b !== undefined) used[name] = b - a;
    }
    const busy = machineBefore && machineAfter && machineAfter.total > machineBefore.total
      ? (machineAfter.busy - machineBefore.busy) / (machineAfter.total - machineBefore.total)
      : undefined;
    results.push({
      ...result,
      ...(Object.keys(used).length > 0 ? { cpuMs: used } : {}),
      ...(busy !== undefined ? { machineBusy: busy } : {}),
    });
  }
  return results;
}
