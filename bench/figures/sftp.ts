/**
 * Figure: SFTP with OpenSSH's `sftp` client in batch mode: time to the first
 * listing, and `put` and `get` of the blob, each checked by SHA-256.
 *
 * The transfer times run from the echo of `put` (or `get`) to the echo of the
 * next command: the transfer alone, session set-up and teardown left to the
 * listing figure; the whole command's time is kept beside it.
 */
import { cpuMs } from "../cpu.ts";
import type { SshLogin } from "../openssh_client.ts";
import { firstLine } from "../process.ts";
import type { Series, SftpFigures, ThroughputRun } from "../results.ts";
import { echoedAt, runSftpBatch, type SftpBatchResult } from "../sftp_client.ts";
import { hashFile, type Workspace } from "../workspace.ts";

/** The file the listed directory holds, so that a listing is recognized. */
export const LISTING_MARKER = "listed-by-the-bench";

/** Where one target's SFTP server finds things, and where the bench sees them on the host. */
export interface SftpPaths {
  /** The directory listed and uploaded to, as the server names it. */
  remoteDir: string;
  /** The same directory on the host. */
  hostDir: string;
  /** The blob, as the server names it (downloaded). */
  remoteBlob: string;
  /** Where downloads land on the host. */
  download: string;
}

/** Options of {@linkcode measureSftp}. */
export interface SftpOptions {
  listingRuns: number;
  warmupRuns: number;
  /** Uploads, then downloads. */
  transferRuns: number;
  /** Processes whose CPU time is read around each transfer, by name. */
  watched?: Record<string, number>;
  /** Called before each part, for progress lines. */
  onPart?: (part: string) => void;
}

const UPLOAD_NAME = "upload.bin";

/** A path as one argument of an sftp command. */
function arg(path: string): string {
  return `"${path.replaceAll("\\", "\\\\").replaceAll('"', '\\"')}"`;
}

/** Makes the directory the targets list and upload to, holding only the marker file. */
export async function makeSftpDir(dir: string): Promise<void> {
  await Deno.mkdir(dir, { recursive: true });
  // Writable whatever user a container's sftp-server runs as.
  await Deno.chmod(dir, 0o777);
  await Deno.writeTextFile(`${dir}/${LISTING_MARKER}`, "capsule bench\n");
}

function failure(result: SftpBatchResult, what: string): string {
  if (result.timedOut) return `${what}: timed out`;
  const why = firstLine(result.stderr) || firstLine(result.lines.map((l) => l.text).join("\n"));
  return `${what}: exit ${result.code}${why ? `: ${why}` : ""}`;
}

/**
 * One `sftp -b` session with a single `ls`: milliseconds from spawn to the
 * listing line that shows the marker.
 *
 * @throws {Error} when the session fails or the listing does not show the marker
 */
export async function listOnce(login: SshLogin, paths: SftpPaths): Promise<number> {
  const result = await runSftpBatch(login, [`ls ${arg(paths.remoteDir)}`], 60_000);
  if (result.code !== 0 || result.timedOut) throw new Error(failure(result, "ls"));
  const listed = result.lines.find((l) =>
    !l.text.startsWith("sftp>") && l.text.includes(LISTING_MARKER)
  );
  if (listed === undefined) throw new Error(`ls: no "${LISTING_MARKER}" in the listing`);
  return listed.ms;
}

async function cpuOf(watched: Record<string, number>): Promise<Record<string, number>> {
  const out: Record<string, number> = {};
  for (const [name, pid] of Object.entries(watched)) {
    const used = await cpuMs(pid);
    if (used !== undefined) out[name] = used;
  }
  return out;
}

/**
 * One transfer: `command` (a `put` or a `get`) then `pwd`, whose echo ends the
 * timing; `landed` is where the copy appears on the host, hashed afterwards
 * and removed.
 */
async function transferOnce(
  login: SshLogin,
  command: string,
  landed: string,
  ws: Workspace,
  watched: Record<string, number>,
): Promise<ThroughputRun> {
  await Deno.remove(landed).catch(() => {});
  const before = await cpuOf(watched);
  const result = await runSftpBatch(login, [command, "pwd"]);
  const after = await cpuOf(watched);
  const verb = command.split(" ")[0]!;
  const start = echoedAt(result, `${verb} `);
  const end = echoedAt(result, "pwd");
  const problems: string[] = [];
  if (result.code !== 0 || result.timedOut) problems.push(failure(result, verb));
  else if (start === undefined || end === undefined) problems.push(`${verb}: no echo to time`);
  const copy = await hashFile(landed);
  await Deno.remove(landed).catch(() => {});
  if (copy === undefined) {
    if (problems.length === 0) problems.push(`${verb}: nothing arrived`);
  } else if (copy.bytes !== ws.blobBytes) {
    problems.push(`${verb}: ${copy.bytes} of ${ws.blobBytes} bytes`);
  } else if (copy.sha256 !== ws.blobSha256) problems.push(`${verb}: SHA-256 differs`);
  const used: Record<string, number> = {};
  for (const name of Object.keys(after)) {
    if (before[name] !== undefined) used[name] = after[name]! - before[name];
  }
  return {
    ms: start !== undefined && end !== undefined ? end - start : result.ms,
    wallMs: result.ms,
    bytes: ws.blobBytes,
    ok: problems.length === 0,
    ...(problems.length > 0 ? { error: problems.join("; ") } : {}),
    ...(Object.keys(used).length > 0 ? { cpuMs: used } : {}),
  };
}

/**
 * Measures every SFTP figure of one target: the listing (warm-up runs first),
 * then `put`s, then `get`s of the blob.
 */
export async function measureSftp(
  login: SshLogin,
  paths: SftpPaths,
  ws: Workspace,
  options: SftpOptions,
): Promise<SftpFigures> {
  const watched = options.watched ?? {};
  options.onPart?.(`first listing (${options.warmupRuns} warm-up + ${options.listingRuns})`);
  const listing: Series = { attempts: 0, samples: [], failures: [] };
  for (let i = 0; i < options.warmupRuns + options.listingRuns; i++) {
    try {
      const ms = await listOnce(login, paths);
      if (i < options.warmupRuns) continue;
      listing.attempts++;
      listing.samples.push(ms);
    } catch (error) {
      if (i < options.warmupRuns) continue;
      listing.attempts++;
      listing.failures.push(error instanceof Error ? error.message : String(error));
    }
  }
  const uploaded = `${paths.hostDir}/${UPLOAD_NAME}`;
  options.onPart?.(`put ×${options.transferRuns}`);
  const put: ThroughputRun[] = [];
  for (let i = 0; i < options.transferRuns; i++) {
    const command = `put ${arg(ws.blob)} ${arg(`${paths.remoteDir}/${UPLOAD_NAME}`)}`;
    put.push(await transferOnce(login, command, uploaded, ws, watched));
  }
  options.onPart?.(`get ×${options.transferRuns}`);
  const get: ThroughputRun[] = [];
  for (let i = 0; i < options.transferRuns; i++) {
    const command = `get ${arg(paths.remoteBlob)} ${arg(paths.download)}`;
    get.push(await transferOnce(login, command, paths.download, ws, watched));
  }
  return { listing, put, get };
}
