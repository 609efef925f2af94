/** A description of the machine and software a run measured on. */
import { engineDescription } from "./docker_cli.ts";
import { runProcess } from "./process.ts";

/** What the bench ran on. */
export interface MachineInfo {
  cpu: string;
  cores: number;
  memoryGiB: number;
  os: string;
  kernel: string;
  docker: string;
  deno: string;
  openssh: string;
  /** The capsule source measured: commit, and whether the tree had changes. */
  capsule: string;
  date: string;
  /** 1-minute load average when the run started: other work on the machine skews timings. */
  loadAtStart: string;
}

async function readOr(path: string, fallback: string): Promise<string> {
  try {
    return await Deno.readTextFile(path);
  } catch {
    return fallback;
  }
}

async function capsuleRevision(root: string): Promise<string> {
  // Read-only git queries: the commit and whether the working tree differs from it.
  const head = await runProcess("git", ["-C", root, "rev-parse", "--short", "HEAD"])
    .catch(() => undefined);
  if (head === undefined || head.code !== 0) return "unknown (not a git checkout)";
  const status = await runProcess("git", [
    "-C",
    root,
    "status",
    "--porcelain",
    "--",
    "src",
    "main.ts",
  ]);
  const dirty = status.code === 0 && status.stdout.trim() !== "";
  return `${head.stdout.trim()}${dirty ? " with uncommitted changes in src/" : ""}`;
}

/** The 1-minute load average, as /proc/loadavg gives it. */
export async function loadAverage(): Promise<string> {
  return (await readOr("/proc/loadavg", "–")).split(" ")[0] ?? "–";
}

/** Collects CPU, memory, kernel and tool versions. */
export async function describeMachine(root: string): Promise<MachineInfo> {
  const cpuinfo = await readOr("/proc/cpuinfo", "");
  const cpu = /^model name\s*:\s*(.+)$/m.exec(cpuinfo)?.[1]?.trim() ?? "unknown";
  const osRelease = await readOr("/etc/os-release", "");
  const os = /^PRETTY_NAME="?([^"\n]*)"?$/m.exec(osRelease)?.[1] ?? Deno.build.os;
  const ssh = await runProcess("ssh", ["-V"]);
  return {
    cpu,
    cores: navigator.hardwareConcurrency,
    memoryGiB: Deno.systemMemoryInfo().total / 2 ** 30,
    os,
    kernel: Deno.osRelease(),
    docker: await engineDescription(),
    deno: Deno.version.deno,
    openssh: ssh.stderr.trim(),
    capsule: await capsuleRevision(root),
    date: new Date().toISOString(),
    loadAtStart: await loadAverage(),
  };
}
