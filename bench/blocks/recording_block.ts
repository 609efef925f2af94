/**
 * The cost of recording: stdout through a PTY with recording off, on, and on
 * with the audit, from capsules running side by side, their runs interleaved
 * so that a noisy machine weighs on each alike.
 */
import { type CapsuleServer, startCapsule } from "../capsule_server.ts";
import { addTarget, type BenchContext } from "../context.ts";
import { BENCH_INSTANCE_PREFIX } from "../docker_cli.ts";
import { BLOB_TARGET } from "../docker_run_model.ts";
import { measureThroughput, stdoutRun } from "../figures/throughput.ts";
import { opensshCommand, type SshLogin } from "../openssh_client.ts";
import { runProcess } from "../process.ts";
import { progress } from "../progress.ts";
import type { RecordingRun } from "../results.ts";
import { sleep } from "../sleep.ts";
import { RECORDING_VARIANTS, type RecordingVariant } from "../targets.ts";
import { hashFile, type Workspace } from "../workspace.ts";
import { finishCapsule } from "./capsule_block.ts";

const USER = "bench";

/**
 * `ssh -tt`, the terminal put in raw mode first so that the bytes arrive as
 * sent (no `\n` to `\r\n`) and can be checked by their hash.
 */
const PTY_CAT = `stty raw -echo && cat ${BLOB_TARGET}`;

/** A started variant: its server and where its recordings go. */
interface Running {
  variant: RecordingVariant;
  server: CapsuleServer;
  dir: string;
  labels: string[];
}

/**
 * Text the size of the blob (its base64, in lines of 76): what a terminal
 * shows, which the recording writes as JSON strings.
 */
async function textBlob(ws: Workspace): Promise<Workspace> {
  const path = `${ws.dir}/text-blob`;
  const made = await runProcess("/bin/sh", [
    "-c",
    `base64 -w 76 '${ws.blob}' | head -c ${ws.blobBytes} > '${path}'`,
  ]);
  if (made.code !== 0) throw new Error(`cannot make the text blob: ${made.stderr.trim()}`);
  const hashed = await hashFile(path);
  if (!hashed) throw new Error("the text blob is missing");
  return { ...ws, blob: path, blobBytes: hashed.bytes, blobSha256: hashed.sha256 };
}

/** Bytes of the files in `dir` once they stop growing (the writer drains after the exit); then removes them. */
async function takeCasts(dir: string): Promise<number> {
  const total = async () => {
    let bytes = 0;
    try {
      for await (const entry of Deno.readDir(dir)) {
        bytes += (await Deno.stat(`${dir}/${entry.name}`)).size;
      }
    } catch {
      return 0;
    }
    return bytes;
  };
  let last = -1;
  let now = await total();
  for (let i = 0; i < 50 && now !== last; i++) {
    await sleep(300);
    last = now;
    now = await total();
  }
  for await (const entry of Deno.readDir(dir)) await Deno.remove(`${dir}/${entry.name}`);
  return now;
}

/** Starts every recording variant, measures PTY stdout round-robin, stops them. */
export async function recordingBlock(ctx: BenchContext): Promise<void> {
  progress(`recording: making a ${ctx.workspace.blobBytes / 2 ** 20} MiB text blob`);
  const ws = await textBlob(ctx.workspace);
  const running: Running[] = [];
  try {
    for (const variant of RECORDING_VARIANTS) {
      const target = addTarget(ctx, {
        id: variant.id,
        label: variant.label,
        description: variant.description,
      });
      const dir = `${ctx.workspace.dir}/${variant.id}`;
      const instance = `${BENCH_INSTANCE_PREFIX}${ctx.runId}-${variant.id}`;
      progress(`${variant.label}: starting`);
      const started = await startCapsule({
        root: ctx.root,
        dir,
        instance,
        user: USER,
        publicKey: ctx.workspace.publicKey,
        blob: ws.blob,
        blobTarget: BLOB_TARGET,
        extra: variant.config(dir),
      });
      if (!started.ok) {
        target.availability = { ok: false, reason: started.reason };
        progress(`${variant.label}: not available: ${started.reason}`);
        continue;
      }
      const server = started.server;
      ctx.cleanup.add(`stop ${variant.label}`, async () => void await server.stop());
      running.push({ variant, server, dir, labels: [`io.capsule.instance=${instance}`] });
      ctx.results.recording[variant.id] = [];
    }
    await sleep(2_000);
    const runs = ctx.settings.throughputRuns + 1;
    for (let i = 0; i < runs; i++) {
      for (const { variant, server, dir } of running) {
        const warmUp = i === 0;
        progress(`${variant.label}: PTY stdout ${warmUp ? "warm-up" : `run ${i}/${runs - 1}`}`);
        const login: SshLogin = { port: server.port, user: USER, identityFile: ws.keyFile };
        const mark = server.logs.length;
        const [run] = await measureThroughput(
          stdoutRun,
          ["ssh", opensshCommand(login, PTY_CAT, ["-tt"])],
          ws,
          1,
          { capsule: server.pid },
        );
        const record: RecordingRun = { ...run! };
        if (variant.config(dir)["recording"] !== undefined) {
          record.castBytes = await takeCasts(`${dir}/casts`);
          record.recordingStopped = server.logs.slice(mark).some((r) =>
            r.event === "recording.stopped"
          );
        }
        if (!warmUp) ctx.results.recording[variant.id]!.push(record);
      }
    }
  } finally {
    for (const { variant, server, labels } of running.reverse()) {
      await finishCapsule(ctx, variant.label, server, labels);
    }
  }
}
