/** The Docker CLI as the bench uses it: finding and removing the containers it caused. */
import { runProcess } from "./process.ts";
import { sleep } from "./sleep.ts";

/** Label on every container the bench itself starts (docker run model, container floor). */
export const BENCH_LABEL = "io.capsule.bench.run";
/** Prefix of the `server.instance` of every capsule the bench starts. */
export const BENCH_INSTANCE_PREFIX = "capsule-bench-";

/** Ids of containers (running or not) matching every `label=...` filter. */
export async function containersWithLabels(labels: readonly string[]): Promise<string[]> {
  const args = ["ps", "-aq", "--no-trunc", ...labels.flatMap((l) => ["--filter", `label=${l}`])];
  const result = await runProcess("docker", args, { timeoutMs: 30_000 });
  if (result.code !== 0) throw new Error(`docker ps failed: ${result.stderr.trim()}`);
  return result.stdout.split("\n").filter((line) => line !== "");
}

/** Force-removes containers by id; returns how many the engine removed. */
export async function removeContainers(ids: readonly string[]): Promise<number> {
  if (ids.length === 0) return 0;
  const result = await runProcess("docker", ["rm", "-f", "-v", ...ids], { timeoutMs: 120_000 });
  return result.stdout.split("\n").filter((line) => line !== "").length;
}

/**
 * Waits until at most `allowed` containers match `labels` (removal after a
 * session is asynchronous; a warm pool keeps some); returns how many more
 * than `allowed` are still there after `timeoutMs`.
 */
export async function waitForContainersGone(
  labels: readonly string[],
  options: { timeoutMs: number; allowed?: number },
): Promise<number> {
  const allowed = options.allowed ?? 0;
  const deadline = Date.now() + options.timeoutMs;
  let left = await containersWithLabels(labels);
  while (left.length > allowed && Date.now() < deadline) {
    await sleep(250);
    left = await containersWithLabels(labels);
  }
  return Math.max(0, left.length - allowed);
}

/** Ids of containers left by any bench run: its own label, or a capsule instance of the bench. */
export async function benchContainers(): Promise<string[]> {
  const own = await containersWithLabels([BENCH_LABEL]);
  const result = await runProcess("docker", [
    "ps",
    "-a",
    "--no-trunc",
    "--filter",
    "label=io.capsule.managed=true",
    "--format",
    '{{.ID}} {{.Label "io.capsule.instance"}}',
  ], { timeoutMs: 30_000 });
  if (result.code !== 0) throw new Error(`docker ps failed: ${result.stderr.trim()}`);
  const capsules = result.stdout.split("\n")
    .map((line) => line.split(" "))
    .filter(([, instance]) => instance?.startsWith(BENCH_INSTANCE_PREFIX) === true)
    .map(([id]) => id!);
  return [...new Set([...own, ...capsules])];
}

/** The engine's version and storage driver, e.g. `20.10.24 (overlay2)`. */
export async function engineDescription(): Promise<string> {
  const result = await runProcess("docker", [
    "info",
    "--format",
    "{{.ServerVersion}} ({{.Driver}} storage, {{.CgroupDriver}} cgroups v{{.CgroupVersion}})",
  ], { timeoutMs: 30_000 });
  if (result.code !== 0) throw new Error(`no Docker engine answers: ${result.stderr.trim()}`);
  return result.stdout.trim();
}

/** The absolute path of the docker CLI (scripts run by sshd get a minimal PATH). */
export async function dockerCliPath(): Promise<string> {
  const found = await runProcess("/bin/sh", ["-c", "command -v docker"]);
  if (found.code !== 0 || found.stdout.trim() === "") throw new Error("the docker CLI is missing");
  return found.stdout.trim();
}
