/** Engine-side checks for end-to-end tests, through the Docker CLI. */
import { engineUnderTest } from "./test_engine.ts";

async function docker(args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  const out = await new Deno.Command("docker", { args, stdout: "piped", stderr: "piped" }).output();
  const dec = new TextDecoder();
  return { code: out.code, stdout: dec.decode(out.stdout), stderr: dec.decode(out.stderr) };
}

/**
 * Throws a loud error when no Docker engine answers: end-to-end tests must
 * fail, never skip, without one.
 */
export async function requireEngine(): Promise<void> {
  let result;
  try {
    result = await docker(["info", "--format", "{{.ServerVersion}}"]);
  } catch (error) {
    throw new Error(`The Docker CLI is missing: run scripts/setup.sh (${error})`);
  }
  if (result.code !== 0) {
    throw new Error(
      `No Docker engine is reachable; end-to-end tests need one (run scripts/setup.sh):\n${result.stderr}`,
    );
  }
}

/**
 * Throws a loud error when an image the tests need is missing (e.g.
 * `capsule-test-debian:latest`, which `scripts/setup.sh --test` builds).
 */
export async function requireImage(image: string): Promise<void> {
  const result = await docker(["image", "inspect", "--format", "{{.Id}}", image]);
  if (result.code !== 0) {
    throw new Error(
      `The image "${image}" is missing: run scripts/setup.sh --test\n${result.stderr}`,
    );
  }
}

/** The command lines of the processes running in a container (`docker top`). */
export async function containerProcesses(id: string): Promise<string[]> {
  // docker top needs the pid column; the command line is all after it. Docker
  // passes its arguments to ps; Podman 4.3 takes format descriptors only and
  // answers ps's options with a dropped connection ("EOF").
  const format = engineUnderTest() === "podman" ? ["pid,args"] : ["-o", "pid,args"];
  const result = await docker(["top", id, ...format]);
  if (result.code !== 0) throw new Error(`docker top failed: ${result.stderr}`);
  return result.stdout.split("\n").slice(1).filter((l) => l !== "")
    .map((l) => l.trim().replace(/^\d+\s+/, ""));
}

/**
 * Full ids of the containers capsule created (running or not): every one, or only
 * one server instance's, and only those with these labels too.
 */
export async function capsuleContainers(
  instance?: string,
  labels: Record<string, string> = {},
): Promise<string[]> {
  const filters = ["--filter", "label=io.capsule.managed=true"];
  if (instance !== undefined) filters.push("--filter", `label=io.capsule.instance=${instance}`);
  for (const [key, value] of Object.entries(labels)) {
    filters.push("--filter", `label=${key}=${value}`);
  }
  const result = await docker(["ps", "-aq", "--no-trunc", ...filters]);
  if (result.code !== 0) throw new Error(`docker ps failed: ${result.stderr}`);
  return result.stdout.split("\n").filter((l) => l !== "");
}

/**
 * Waits until no capsule container is left, failing with the ones that stay.
 * Removal after a killed client is asynchronous, so this polls for a while.
 */
export async function assertNoContainersLeft(
  timeoutMs = 15_000,
  instance?: string,
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  let left = await capsuleContainers(instance);
  while (left.length > 0 && Date.now() < deadline) {
    await new Promise((r) => setTimeout(r, 200));
    left = await capsuleContainers(instance);
  }
  if (left.length > 0) {
    throw new Error(`capsule containers left behind: ${left.join(", ")}`);
  }
}

/** `docker inspect` of one container as JSON. */
export async function inspect(id: string): Promise<Record<string, unknown>> {
  const result = await docker(["inspect", id]);
  if (result.code !== 0) throw new Error(`docker inspect failed: ${result.stderr}`);
  return JSON.parse(result.stdout)[0];
}

/** Engine events of one action for one container between two times (Unix seconds). */
export async function containerEvents(
  id: string,
  action: string,
  since: number,
  until: number,
): Promise<Record<string, unknown>[]> {
  const result = await docker([
    "events",
    "--since",
    since.toFixed(3),
    "--until",
    until.toFixed(3),
    "--filter",
    `container=${id}`,
    "--filter",
    `event=${action}`,
    "--format",
    "{{json .}}",
  ]);
  if (result.code !== 0) throw new Error(`docker events failed: ${result.stderr}`);
  return result.stdout.split("\n").filter((l) => l !== "").map((l) => JSON.parse(l));
}
