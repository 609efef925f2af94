/** What the SFTP targets share: the run's paths, and measuring one target once it answers. */
import type { BenchContext } from "../context.ts";
import { dockerdPid } from "../cpu.ts";
import { listOnce, measureSftp, type SftpPaths } from "../figures/sftp.ts";
import type { SshLogin } from "../openssh_client.ts";
import { progress } from "../progress.ts";
import type { TargetInfo } from "../results.ts";
import type { SftpMounts } from "../sftp_model.ts";

/** The message of a thrown value. */
export function message(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

/** What every SFTP target of one run shares. */
export interface SftpRun {
  ctx: BenchContext;
  mounts: SftpMounts;
  /** Paths as a container sees them. */
  inContainer: SftpPaths;
  /** Paths as the host sees them (OpenSSH without a container). */
  onHost: SftpPaths;
}

/**
 * Checks that SFTP answers (one listing), then measures every figure; a
 * target whose SFTP does not answer is marked not available, with why.
 */
export async function measureTarget(
  run: SftpRun,
  target: TargetInfo,
  login: SshLogin,
  options: { paths: SftpPaths; watched: Record<string, number> },
): Promise<void> {
  const { settings, results } = run.ctx;
  try {
    await listOnce(login, options.paths);
  } catch (error) {
    target.availability = { ok: false, reason: `SFTP does not answer: ${message(error)}` };
    progress(`${target.label}: not available: ${message(error)}`);
    return;
  }
  results.sftp[target.id] = await measureSftp(login, options.paths, run.ctx.workspace, {
    listingRuns: settings.listingRuns,
    warmupRuns: settings.warmupRuns,
    transferRuns: settings.sftpRuns,
    watched: options.watched,
    onPart: (part) => progress(`${target.label}: ${part}`),
  });
}

/** Processes whose CPU time the figures read: `dockerd`, when there is one. */
export async function dockerWatch(): Promise<Record<string, number>> {
  const dockerd = await dockerdPid();
  return dockerd !== undefined ? { dockerd } : {};
}
