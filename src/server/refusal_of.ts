import type { ContainerConfig } from "../config/types.ts";
import type { SessionRequest } from "../session/mod.ts";

/**
 * Capsule's policy on what a session channel may start: shells and commands
 * always; of the subsystems only `sftp`, and only while the user's
 * `container.sftp.enabled` is on.
 *
 * @returns the reason for the log when `request` is refused, else `undefined`
 */
export function refusalOf(request: SessionRequest, container: ContainerConfig): string | undefined {
  if (request.kind !== "subsystem") return undefined;
  if (request.name !== "sftp") return "unknown subsystem";
  if (!container.sftp.enabled) return "sftp is turned off for this user (container.sftp.enabled)";
  return undefined;
}
