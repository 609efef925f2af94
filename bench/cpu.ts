/** CPU time used by a process (user + system), from /proc. */
import { runProcess } from "./process.ts";

let ticksPerSecond: number | undefined;

async function clockTicks(): Promise<number> {
  if (ticksPerSecond === undefined) {
    const result = await runProcess("getconf", ["CLK_TCK"]).catch(() => undefined);
    const value = Number(result?.stdout.trim());
    ticksPerSecond = Number.isFinite(value) && value > 0 ? value : 100;
  }
  return ticksPerSecond;
}

/** CPU milliseconds `pid` has used so far; `undefined` when it is gone or not readable. */
export function cpuMs(pid: number): Promise<number | undefined> {
  return statCpuMs(`/proc/${pid}/stat`);
}

/**
 * CPU milliseconds the main thread of `pid` has used so far (for capsule:
 * the thread of its event loop, which ssh2 and the session pumps share).
 */
export function mainThreadCpuMs(pid: number): Promise<number | undefined> {
  return statCpuMs(`/proc/${pid}/task/${pid}/stat`);
}

async function statCpuMs(path: string): Promise<number | undefined> {
  try {
    const stat = await Deno.readTextFile(path);
    // Fields after the command name (which may hold spaces), from field 3 on.
    const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
    const utime = Number(fields[11]);
    const stime = Number(fields[12]);
    if (!Number.isFinite(utime) || !Number.isFinite(stime)) return undefined;
    return ((utime + stime) * 1000) / await clockTicks();
  } catch {
    return undefined;
  }
}

/** The pid of the local Docker engine (`dockerd`), if there is exactly one. */
export async function dockerdPid(): Promise<number | undefined> {
  const result = await runProcess("pgrep", ["-x", "dockerd"]);
  const pids = result.stdout.split("\n").filter((l) => l !== "").map(Number);
  return pids.length === 1 ? pids[0] : undefined;
}

/** The machine's CPU time so far, in clock ticks: busy (not idle or waiting on I/O) and total. */
export async function machineTicks(): Promise<{ busy: number; total: number } | undefined> {
  try {
    const first = (await Deno.readTextFile("/proc/stat")).split("\n")[0] ?? "";
    const [user, nice, system, idle, iowait, irq, softirq, steal] = first.trim().split(/\s+/)
      .slice(1, 9).map(Number);
    const busy = user! + nice! + system! + irq! + softirq! + steal!;
    const total = busy + idle! + iowait!;
    return Number.isFinite(total) && total > 0 ? { busy, total } : undefined;
  } catch {
    return undefined;
  }
}
