/**
 * The static tools capsule brings into every session container, and where they
 * appear there. `scripts/build-tools.sh` builds them; `tools/README.md` says
 * where each comes from.
 */

/** Every tool, in the order the build lists them. */
export const TOOL_NAMES = ["sftp-server", "scp", "rsync", "socat", "capsule-relay"] as const;

/** The name of one of capsule's tools. */
export type ToolName = typeof TOOL_NAMES[number];

/** Where the tools volume is mounted, read-only, in a session container. */
export const TOOLS_MOUNT = "/.capsule";

/** The folder of the tools' executables in a session container. */
export const TOOLS_BIN = `${TOOLS_MOUNT}/bin`;

/** The tools cache `scripts/build-tools.sh` uses when `CAPSULE_TOOLS_CACHE` is unset. */
export const DEFAULT_TOOLS_CACHE = "/var/cache/capsule/tools";

/** What the Docker volume holding one build of the tools is named after, before its hash. */
export const TOOLS_VOLUME_PREFIX = "capsule-tools-";

/**
 * The path of a tool inside a session container.
 *
 * @example
 * ```ts
 * toolPath("sftp-server"); // "/.capsule/bin/sftp-server"
 * ```
 */
export function toolPath(name: ToolName): string {
  return `${TOOLS_BIN}/${name}`;
}

/**
 * The name of the Docker volume that holds the build with this content hash.
 *
 * @param hash the `hash` of a {@linkcode ToolSet} from `findTools()`
 */
export function toolsVolumeName(hash: string): string {
  return `${TOOLS_VOLUME_PREFIX}${hash}`;
}
