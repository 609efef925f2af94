/**
 * SFTP wired by hand: OpenSSH whose `Subsystem sftp` runs capsule's static
 * sftp-server in a busybox container, through the Docker CLI, with the same
 * container settings and mounts as capsule's session containers.
 */
import { findTools, toolPath, TOOLS_MOUNT, type ToolSet } from "../src/tools/mod.ts";
import { BENCH_LABEL } from "./docker_cli.ts";
import { BLOB_TARGET, CAPSULE_EQUIVALENT_FLAGS, shellQuote } from "./docker_run_model.ts";

/** Where the SFTP directory (listed, and uploaded to) is mounted, read-write, in every container. */
export const SFTP_DIR_TARGET = "/bench/sftp";

/** capsule's static sftp-server as a container of the bench sees it. */
export const SFTP_SERVER = toolPath("sftp-server");

/**
 * capsule's built tools, which hold the sftp-server the container models run.
 *
 * @throws {Error} when they are not built, or the build is incomplete
 */
export async function sftpTools(): Promise<ToolSet> {
  let tools: ToolSet | undefined;
  try {
    tools = await findTools();
  } catch (error) {
    const cause = error instanceof Error && error.cause instanceof Error
      ? `: ${error.cause.message}`
      : "";
    throw new Error(`${error instanceof Error ? error.message : String(error)}${cause}`);
  }
  if (tools === undefined) {
    throw new Error(
      "capsule's static tools (sftp-server) are not built: run scripts/build-tools.sh " +
        "(or scripts/setup.sh), or point CAPSULE_TOOLS_DIR at a build",
    );
  }
  return tools;
}

/** Host paths every SFTP container mounts. */
export interface SftpMounts {
  runId: string;
  /** The blob, mounted read-only at {@linkcode BLOB_TARGET}. */
  blob: string;
  /** The SFTP directory, mounted read-write at {@linkcode SFTP_DIR_TARGET}. */
  sftpDir: string;
  /** The tools build (holding `bin/sftp-server`), mounted read-only at `/.capsule`. */
  toolsDir: string;
}

/** `docker run` options after `run`: the bench label, capsule's settings and the mounts. */
export function sftpContainerOptions(mounts: SftpMounts): string[] {
  return [
    "--label",
    `${BENCH_LABEL}=${mounts.runId}`,
    ...CAPSULE_EQUIVALENT_FLAGS,
    "-v",
    `${mounts.blob}:${BLOB_TARGET}:ro`,
    "-v",
    `${mounts.sftpDir}:${SFTP_DIR_TARGET}`,
    "-v",
    `${mounts.toolsDir}:${TOOLS_MOUNT}:ro`,
  ];
}

/**
 * The `Subsystem sftp` script that runs `docker ...args` in place of itself,
 * its stdin and stdout the SFTP channel.
 */
export function subsystemScript(options: {
  docker: string;
  args: readonly string[];
  dockerHost: string | undefined;
}): string {
  return [
    "#!/bin/sh",
    "# capsule bench: SFTP in a container, wired by hand.",
    ...(options.dockerHost ? [`export DOCKER_HOST=${shellQuote(options.dockerHost)}`] : []),
    `exec ${[options.docker, ...options.args].map(shellQuote).join(" ")}`,
    "",
  ].join("\n");
}
