/**
 * Starts the real capsule (`deno run main.ts serve`) as a child process on
 * 127.0.0.1 with a free port and a temporary config, for end-to-end tests.
 */
import { stringify } from "yaml";
import { dockerSettingsUnderTest } from "./test_engine.ts";

const ROOT = new URL("../../", import.meta.url).pathname;

/** A capsule server running as a child process. */
export interface CapsuleProcess {
  port: number;
  dir: string;
  /** The `server.instance` label value of this server's containers. */
  instance: string;
  /** Every log line so far (JSON objects). */
  logs(): Record<string, unknown>[];
  /** Sends a signal and waits for the process to exit; returns its exit code. */
  stop(signal?: Deno.Signal): Promise<number>;
  /** Sends a signal without waiting. */
  signal(signal: Deno.Signal): void;
  /** Resolves with the exit code when the process exits. */
  exited: Promise<number>;
  /** Waits for a log record matching `predicate` (already written or still to come). */
  waitForLog(
    predicate: (record: Record<string, unknown>) => boolean,
    timeoutMs?: number,
  ): Promise<Record<string, unknown>>;
  /** The child's pid. */
  pid: number;
}

/** Options of {@linkcode startCapsule}. */
export interface StartCapsuleOptions {
  /** Config merged over the test defaults (users, container, ...). */
  config?: Record<string, unknown>;
  env?: Record<string, string>;
  /** Extra CLI args after `serve`. */
  args?: string[];
  /**
   * Once capsule listens, its standard error is not read until this
   * settles: a log reader that stalls, as a busy journald can.
   */
  holdLog?: Promise<void>;
}

type Tree = Record<string, unknown>;
const isTree = (v: unknown): v is Tree => typeof v === "object" && v !== null && !Array.isArray(v);

/** Merges `over` into `base` key by key; arrays and values replace. */
export function deepMerge(base: Tree, over: Tree): Tree {
  const out: Tree = { ...base };
  for (const [key, value] of Object.entries(over)) {
    const current = out[key];
    out[key] = isTree(current) && isTree(value) ? deepMerge(current, value) : value;
  }
  return out;
}

/**
 * Arguments of `deno` that run `capsule serve` from this checkout with the
 * permissions of `deno task start` (and no more).
 */
export function serveArgs(configFile: string): string[] {
  return [
    "run",
    "--allow-net",
    "--allow-read",
    "--allow-write",
    "--allow-env",
    "--allow-sys",
    `${ROOT}main.ts`,
    "serve",
    "--config",
    configFile,
  ];
}

/** This process's environment without `DOCKER_HOST`, `DOCKER_TLS_VERIFY` and `DOCKER_CERT_PATH`. */
function engineFreeEnv(): Record<string, string> {
  const env = Deno.env.toObject();
  if (Object.keys(dockerSettingsUnderTest()).length === 0) return env;
  delete env.DOCKER_HOST;
  delete env.DOCKER_TLS_VERIFY;
  delete env.DOCKER_CERT_PATH;
  return env;
}

/** Waits for a capsule child to print `server.listening`, returning its port. */
export async function startCapsule(options: StartCapsuleOptions = {}): Promise<CapsuleProcess> {
  const dir = await Deno.makeTempDir({ prefix: "capsule-e2e-" });
  const config = deepMerge({
    // A unique instance, so that this server's start-up sweep leaves other servers' containers alone.
    server: {
      listen: "127.0.0.1:0",
      stateDir: `${dir}/state`,
      instance: `test-${crypto.randomUUID().slice(0, 8)}`,
    },
    log: { level: "debug", format: "json" },
    // The engine of this run (ENGINE_UNDER_TEST) through capsule's own
    // settings; nothing for the machine's engine.
    docker: dockerSettingsUnderTest(),
  }, options.config ?? {});
  await Deno.writeTextFile(`${dir}/config.yaml`, stringify(config));
  const child = new Deno.Command(Deno.execPath(), {
    args: [...serveArgs(`${dir}/config.yaml`), ...(options.args ?? [])],
    cwd: ROOT,
    // Without the Docker CLI's variables: the config says where the engine is.
    clearEnv: true,
    env: { ...engineFreeEnv(), NO_COLOR: "1", ...options.env },
    stdin: "null",
    stdout: "null",
    stderr: "piped",
  }).spawn();

  const lines: Record<string, unknown>[] = [];
  let resolvePort!: (port: number) => void;
  let rejectPort!: (error: Error) => void;
  const port = new Promise<number>((resolve, reject) => {
    resolvePort = resolve;
    rejectPort = reject;
  });
  const reading = (async () => {
    let buffered = "";
    const raw: string[] = [];
    for await (const chunk of child.stderr.pipeThrough(new TextDecoderStream())) {
      buffered += chunk;
      let newline;
      while ((newline = buffered.indexOf("\n")) >= 0) {
        const line = buffered.slice(0, newline);
        buffered = buffered.slice(newline + 1);
        raw.push(line);
        try {
          const record = JSON.parse(line);
          lines.push(record);
          if (record.event === "server.listening") {
            resolvePort(record.port);
            if (options.holdLog) await options.holdLog;
          }
        } catch {
          // Not JSON: kept in raw for the failure message.
        }
      }
    }
    rejectPort(new Error(`capsule exited before listening:\n${raw.join("\n")}`));
  })();
  const status = child.status;
  const timer = setTimeout(
    () => rejectPort(new Error("capsule did not listen within 30 s")),
    30_000,
  );
  try {
    const bound = await port;
    return {
      port: bound,
      dir,
      instance: String((config.server as Record<string, unknown>).instance),
      pid: child.pid,
      logs: () => lines,
      signal(signal: Deno.Signal) {
        child.kill(signal);
      },
      exited: status.then((s) => s.code),
      async waitForLog(predicate, timeoutMs = 20_000) {
        const deadline = Date.now() + timeoutMs;
        while (Date.now() < deadline) {
          const found = lines.find(predicate);
          if (found) return found;
          await new Promise((r) => setTimeout(r, 50));
        }
        throw new Error(`No matching log record within ${timeoutMs} ms`);
      },
      async stop(signal: Deno.Signal = "SIGTERM") {
        try {
          child.kill(signal);
        } catch {
          // Already exited.
        }
        const { code } = await status;
        await reading;
        await Deno.remove(dir, { recursive: true }).catch(() => {});
        return code;
      },
    };
  } catch (error) {
    try {
      child.kill("SIGKILL");
    } catch {
      // Already exited.
    }
    await status;
    await reading;
    throw error;
  } finally {
    clearTimeout(timer);
  }
}
