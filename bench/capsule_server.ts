/** capsule itself (`deno run main.ts serve`) as a child process with a temporary config. */
import { stringify } from "yaml";
import { sleep } from "./sleep.ts";
import { deepMerge, serveArgs } from "../tests/helpers/capsule_process.ts";

/** One JSON log record of capsule. */
export type LogRecord = Record<string, unknown>;

/** A capsule server started by the bench. */
export interface CapsuleServer {
  port: number;
  /** The deno process serving (whose RSS is measured). */
  pid: number;
  instance: string;
  /** Every JSON log record so far, in order. */
  readonly logs: readonly LogRecord[];
  /** SIGTERM, then SIGKILL after 20 s; idempotent. Resolves with the exit code. */
  stop(): Promise<number>;
}

/** What {@linkcode startCapsule} needs. */
export interface CapsuleOptions {
  /** Repository root (holds main.ts). */
  root: string;
  /** Directory for this server's config and state (created). */
  dir: string;
  instance: string;
  user: string;
  publicKey: string;
  /** Host file bind-mounted read-only at `blobTarget` in every container. */
  blob: string;
  blobTarget: string;
  /** Config merged over the bench's (e.g. the warm pool). */
  extra: Record<string, unknown>;
}

/** The server, or why capsule would not start. */
export type StartResult = { ok: true; server: CapsuleServer } | { ok: false; reason: string };

type Tree = Record<string, unknown>;

/**
 * The bench's capsule config: loopback, pre-auth limits raised, the per-user
 * caps off (the concurrency figure runs 100 sessions of one user, which the
 * OpenSSH models do not cap either), one key-only user.
 */
export function capsuleConfig(options: CapsuleOptions): Tree {
  return deepMerge({
    server: {
      listen: "127.0.0.1:0",
      stateDir: `${options.dir}/state`,
      instance: options.instance,
      // The concurrency figure opens 100 connections at once from one address.
      maxStartups: "200:30:400",
      maxStartupsPerSource: 200,
      penalties: { enabled: false },
      drainTimeout: 5,
      // For the event loop's delay during the concurrency figure.
      metrics: { listen: "127.0.0.1:0" },
    },
    log: { level: "info", format: "json" },
    limits: { sessionsPerUser: 0, connectionsPerUser: 0 },
    users: { [options.user]: { authorizedKeys: [options.publicKey] } },
    container: {
      mounts: [{ source: options.blob, target: options.blobTarget, readOnly: true }],
    },
  }, options.extra);
}

/** Starts capsule and waits for its `server.listening` record. */
export async function startCapsule(options: CapsuleOptions): Promise<StartResult> {
  await Deno.mkdir(options.dir, { recursive: true });
  const configFile = `${options.dir}/config.yaml`;
  await Deno.writeTextFile(configFile, stringify(capsuleConfig(options)));
  const child = new Deno.Command(Deno.execPath(), {
    args: serveArgs(configFile),
    cwd: options.root,
    env: { NO_COLOR: "1" },
    stdin: "null",
    stdout: "null",
    stderr: "piped",
  }).spawn();

  const logs: LogRecord[] = [];
  const raw: string[] = [];
  let port: number | undefined;
  let ended = false;
  // Drains capsule's log for its whole life.
  const reading = (async () => {
    let buffered = "";
    const take = (line: string) => {
      try {
        const record = JSON.parse(line) as LogRecord;
        logs.push(record);
        if (record.event === "server.listening" && typeof record.port === "number") {
          port = record.port;
        }
      } catch {
        if (line.trim() !== "") raw.push(line.trim());
      }
    };
    for await (const chunk of child.stderr.pipeThrough(new TextDecoderStream())) {
      buffered += chunk;
      let newline;
      while ((newline = buffered.indexOf("\n")) >= 0) {
        take(buffered.slice(0, newline));
        buffered = buffered.slice(newline + 1);
      }
    }
    take(buffered);
    ended = true;
  })();
  const status = child.status;

  // The first start may compile and fetch npm packages.
  const deadline = Date.now() + 90_000;
  while (port === undefined && !ended && Date.now() < deadline) await sleep(50);
  if (port === undefined) {
    try {
      child.kill("SIGKILL");
    } catch {
      // Already exited.
    }
    await status;
    await reading.catch(() => {});
    const errors = logs.filter((r) => r.level === "error").map((r) => JSON.stringify(r));
    const why = [...raw, ...errors].at(-1) ?? (ended ? "exited without a message" : "no answer");
    return { ok: false, reason: why.replaceAll(configFile, "config.yaml") };
  }

  let stopping: Promise<number> | undefined;
  const stop = async () => {
    try {
      child.kill("SIGTERM");
    } catch {
      // Already exited.
    }
    const exited = await Promise.race([status.then(() => true), sleep(20_000).then(() => false)]);
    if (!exited) {
      try {
        child.kill("SIGKILL");
      } catch {
        // Already exited.
      }
    }
    const { code } = await status;
    await reading.catch(() => {});
    return code;
  };
  return {
    ok: true,
    server: {
      port,
      pid: child.pid,
      instance: options.instance,
      logs,
      stop: () => (stopping ??= stop()),
    },
  };
}
