/**
 * Figure: throughput of a local forward (`ssh -L`). A server on the far side
 * sends the same bytes to every connection; the bench reads them through the
 * client's forwarded port, hashing them as they arrive (SHA-256) and timing
 * from connect to the server's close.
 */
import { createHash } from "node:crypto";
import { opensshArgs, type SshLogin } from "../openssh_client.ts";
import type { ThroughputRun } from "../results.ts";
import { sleep } from "../sleep.ts";
import { freePort } from "../sshd_server.ts";
import { cpuOf, type Watched } from "./throughput.ts";

/** What every transfer through the tunnel must deliver. */
export interface TunnelPayload {
  bytes: number;
  sha256: string;
}

/** Options of {@linkcode measureTunnel}. */
export interface TunnelOptions {
  /**
   * What the session runs, when the forward needs one (capsule's does): it
   * starts the server on the far side's 127.0.0.1:`remotePort` and keeps
   * running. None: `ssh -N`, the server being up already.
   */
  command?: string;
  remotePort: number;
  expected: TunnelPayload;
  /** Timed transfers, after one warm-up transfer. */
  runs: number;
  /** Processes whose CPU time is read around each transfer, by name. */
  watched: Watched;
}

const READY_TIMEOUT_MS = 60_000;
const TRANSFER_TIMEOUT_MS = 600_000;

/** Size and SHA-256 of `copies` copies of a file back to back, read in chunks. */
export async function hashCopies(path: string, copies: number): Promise<TunnelPayload> {
  const hash = createHash("sha256");
  let bytes = 0;
  for (let i = 0; i < copies; i++) {
    using file = await Deno.open(path, { read: true });
    for await (const chunk of file.readable) {
      hash.update(chunk);
      bytes += chunk.byteLength;
    }
  }
  return { bytes, sha256: hash.digest("hex") };
}

/** One transfer: connect to the forwarded port and read until the server closes. */
async function transfer(port: number, expected: TunnelPayload): Promise<ThroughputRun> {
  const started = performance.now();
  let conn: Deno.TcpConn;
  try {
    conn = await Deno.connect({ hostname: "127.0.0.1", port });
  } catch (error) {
    return { ms: 0, bytes: 0, ok: false, error: `connect: ${String(error)}` };
  }
  let timedOut = false;
  const timer = setTimeout(() => {
    timedOut = true;
    conn.close();
  }, TRANSFER_TIMEOUT_MS);
  const hash = createHash("sha256");
  let bytes = 0;
  let failure: string | undefined;
  try {
    for await (const chunk of conn.readable) {
      hash.update(chunk);
      bytes += chunk.byteLength;
    }
  } catch (error) {
    failure = timedOut ? "timed out" : String(error);
  } finally {
    clearTimeout(timer);
  }
  const ms = performance.now() - started;
  const problems = failure ? [failure] : [];
  if (bytes !== expected.bytes) problems.push(`${bytes} of ${expected.bytes} bytes`);
  else if (hash.digest("hex") !== expected.sha256) problems.push("SHA-256 differs");
  return {
    ms,
    bytes,
    ok: problems.length === 0,
    ...(problems.length > 0 ? { error: problems.join("; ") } : {}),
  };
}

/** Waits until a connection through the tunnel gets bytes (the far server is up). */
async function waitForServer(port: number, exited: () => boolean): Promise<void> {
  const deadline = Date.now() + READY_TIMEOUT_MS;
  while (Date.now() < deadline && !exited()) {
    try {
      const conn = await Deno.connect({ hostname: "127.0.0.1", port });
      const reader = conn.readable.getReader();
      const first = await reader.read();
      await reader.cancel().catch(() => {});
      if (!first.done) return;
    } catch {
      // The client's listener is not up yet.
    }
    await sleep(200);
  }
  throw new Error(
    exited() ? "the ssh client exited" : "the server behind the tunnel never answered",
  );
}

/**
 * Opens `ssh -L` to `login` (with `options.command` as its session), then
 * measures one warm-up and `options.runs` timed transfers through it, reading
 * the CPU time of the watched processes around each.
 *
 * @throws {Error} when the tunnel or the server behind it never comes up
 */
export async function measureTunnel(
  login: SshLogin,
  options: TunnelOptions,
): Promise<ThroughputRun[]> {
  const local = freePort();
  const child = new Deno.Command("ssh", {
    args: [
      ...opensshArgs(login, [
        "-L",
        `${local}:127.0.0.1:${options.remotePort}`,
        "-o",
        "ExitOnForwardFailure=yes",
        ...(options.command === undefined ? ["-N"] : []),
      ]),
      ...(options.command === undefined ? [] : ["--", options.command]),
    ],
    stdin: "null",
    stdout: "null",
    stderr: "piped",
  }).spawn();
  const stderr = new Response(child.stderr).text();
  let exited = false;
  const status = child.status.finally(() => (exited = true));
  try {
    try {
      await waitForServer(local, () => exited);
    } catch (error) {
      const said = exited ? (await stderr).trim().split("\n").at(-1) ?? "" : "";
      throw new Error(`${(error as Error).message}${said ? `: ${said}` : ""}`);
    }
    await transfer(local, options.expected);
    const runs: ThroughputRun[] = [];
    for (let i = 0; i < options.runs; i++) {
      const before = await cpuOf(options.watched);
      const run = await transfer(local, options.expected);
      const after = await cpuOf(options.watched);
      const used: Record<string, number> = {};
      for (const name of Object.keys(options.watched)) {
        const a = before[name];
        const b = after[name];
        if (a !== undefined && b !== undefined) used[name] = b - a;
      }
      runs.push(Object.keys(used).length > 0 ? { ...run, cpuMs: used } : run);
    }
    return runs;
  } finally {
    try {
      child.kill("SIGTERM");
    } catch {
      // Already exited.
    }
    await status;
    await stderr;
  }
}
