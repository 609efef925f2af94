/**
 * The hand-made alternative: OpenSSH whose ForceCommand runs each session in
 * `docker run --rm -i busybox`, with the same container settings as capsule's defaults.
 */
import { BENCH_LABEL } from "./docker_cli.ts";

/** Where a throughput blob is mounted in every container of the bench. */
export const BLOB_TARGET = "/bench/blob";

/**
 * `docker run` flags equal to capsule's default container: no network,
 * docker-init, no capabilities, no-new-privileges, 512 MiB without swap,
 * 1 CPU, 256 processes, no engine log, hostname `capsule`.
 */
export const CAPSULE_EQUIVALENT_FLAGS: readonly string[] = [
  "--network",
  "none",
  "--init",
  "--cap-drop",
  "ALL",
  "--security-opt",
  "no-new-privileges",
  "--memory",
  "512m",
  "--memory-swap",
  "512m",
  "--cpus",
  "1",
  "--pids-limit",
  "256",
  "--log-driver",
  "none",
  "--hostname",
  "capsule",
];

/** Quotes a word for a POSIX shell. */
export function shellQuote(word: string): string {
  return `'${word.replaceAll("'", `'\\''`)}'`;
}

/** `docker run` arguments up to the image: fresh, removed on exit, labelled, blob mounted. */
export function dockerRunArgs(runId: string, blob: string, capsuleFlags: boolean): string[] {
  return [
    "run",
    "--rm",
    "-i",
    "--label",
    `${BENCH_LABEL}=${runId}`,
    ...(capsuleFlags ? CAPSULE_EQUIVALENT_FLAGS : ["--network", "none"]),
    "-v",
    `${blob}:${BLOB_TARGET}:ro`,
  ];
}

/**
 * The ForceCommand script: `docker run ... busybox sh -c "$SSH_ORIGINAL_COMMAND"`,
 * `-t` added when the session has a TTY, and `sh` when no command was given.
 */
export function forceCommandScript(options: {
  docker: string;
  runId: string;
  blob: string;
  dockerHost: string | undefined;
}): string {
  const args = dockerRunArgs(options.runId, options.blob, true).map(shellQuote).join(" ");
  return [
    "#!/bin/sh",
    "# capsule bench: one fresh container per SSH session, the way it is done by hand.",
    ...(options.dockerHost ? [`export DOCKER_HOST=${shellQuote(options.dockerHost)}`] : []),
    `set -- ${args}`,
    'if [ -n "$SSH_TTY" ]; then set -- "$@" -t; fi',
    'if [ -n "$SSH_ORIGINAL_COMMAND" ]; then',
    `  exec ${shellQuote(options.docker)} "$@" busybox sh -c "$SSH_ORIGINAL_COMMAND"`,
    "fi",
    `exec ${shellQuote(options.docker)} "$@" busybox sh`,
    "",
  ].join("\n");
}
