import type { ContainerConfig } from "../config/types.ts";
import { CapsuleError, describeError } from "../errors/mod.ts";
import type { ContainerRuntime, ContainerSpec, RunningProcess } from "../runtime/mod.ts";
import { LABELS } from "../runtime/mod.ts";
import { pacedForwarder } from "./paced_forwarder.ts";
import { InitFailureProbe } from "./_init_failure.ts";
import { SessionClock } from "./session_clock.ts";
import { tellUser } from "./tell_user.ts";
import type { ExitStatus, SessionContext, SessionHandler } from "./session_context.ts";

/** Options of {@linkcode containerHandler}. */
export interface ContainerHandlerOptions {
  /** Value of the instance label: which server owns the containers. */
  instance: string;
  /** The container settings for a user (global settings with the user's overrides). */
  containerFor(username: string): ContainerConfig;
}

/** Least time between two resize calls to the engine: at most five a second. */
export const RESIZE_INTERVAL_MS = 200;
/** Least time between two signal calls to the engine. */
export const SIGNAL_INTERVAL_MS = 100;

const SIGNAL_NUMBERS: Record<string, number> = {
  HUP: 1,
  INT: 2,
  QUIT: 3,
  ILL: 4,
  ABRT: 6,
  FPE: 8,
  KILL: 9,
  SEGV: 11,
  PIPE: 13,
  ALRM: 14,
  TERM: 15,
  USR1: 10,
  USR2: 12,
};

/** Builds the engine's container spec for a session. */
export function containerSpec(
  ctx: SessionContext,
  container: ContainerConfig,
  instance: string,
): ContainerSpec {
  const cmd = ctx.request.kind === "exec"
    ? [container.shell, "-c", ctx.request.command]
    : [container.shell];
  const env = Object.entries(ctx.env).map(([k, v]) => `${k}=${v}`);
  if (ctx.pty) env.push(`TERM=${ctx.pty.term}`);
  // The operator's settings win over what the client sent.
  for (const [k, v] of Object.entries(container.env)) env.push(`${k}=${v}`);
  return {
    name: `capsule-${ctx.id}`,
    image: container.image,
    cmd,
    env,
    tty: ctx.pty !== undefined,
    ...(ctx.pty ? { size: { cols: ctx.pty.cols, rows: ctx.pty.rows } } : {}),
    labels: {
      [LABELS.managed]: "true",
      [LABELS.user]: ctx.identity.username,
      [LABELS.session]: ctx.id,
      [LABELS.connection]: ctx.connectionId,
      [LABELS.instance]: instance,
    },
    workdir: container.workdir,
    user: container.user,
    hostname: container.hostname,
    memory: container.memory,
    cpus: container.cpus,
    pids: container.pids,
    network: container.network,
    mounts: container.mounts,
    capAdd: container.capAdd,
    noNewPrivileges: container.noNewPrivileges,
    privileged: container.privileged,
  };
}

/**
 * The innermost session handler: runs the session's shell or command in a
 * fresh container, pipes stdin and output with backpressure both ways,
 * forwards resizes and signals, and removes the container whatever happens.
 */
export function containerHandler(
  runtime: ContainerRuntime,
  options: ContainerHandlerOptions,
): SessionHandler {
  return async (ctx) => {
    const container = options.containerFor(ctx.identity.username);
    const spec = containerSpec(ctx, container, options.instance);
    await runtime.ensureImage(spec.image, { policy: container.pull, signal: ctx.signal });
    if (ctx.signal.aborted) return { code: 255 };
    const process = await runtime.run(spec, { signal: ctx.signal });
    const log = ctx.logger.child({ container: process.containerId.slice(0, 12) });
    log.info("container.start", { image: spec.image, tty: spec.tty });
    const removeOnAbort = () => void runtime.remove(process.containerId).catch(() => {});
    ctx.signal.addEventListener("abort", removeOnAbort, { once: true });
    // The client may have left while the container was being created.
    if (ctx.signal.aborted) removeOnAbort();
    try {
      return await pump(ctx, process, container, removeOnAbort);
    } finally {
      ctx.signal.removeEventListener("abort", removeOnAbort);
      try {
        await runtime.remove(process.containerId);
        log.info("container.remove");
      } catch (error) {
        log.error("container.remove_failed", { error: describeError(error) });
      }
    }
  };
}

/** Exit status of a session ended by a timeout, as timeout(1) uses. */
const TIMED_OUT = 124;

async function pump(
  ctx: SessionContext,
  process: RunningProcess,
  container: ContainerConfig,
  stop: () => void,
): Promise<ExitStatus> {
  const clock = new SessionClock({
    idleMs: container.idleTimeout * 1000,
    maxMs: container.maxSessionTime * 1000,
    warn: (message) => void tellUser(ctx, message),
    expire: (reason) => {
      ctx.logger.info("session.timeout", { reason });
      stop();
    },
  });
  try {
    return await pumpStreams(ctx, process, container, clock);
  } finally {
    clock.stop();
  }
}

async function pumpStreams(
  ctx: SessionContext,
  process: RunningProcess,
  container: ContainerConfig,
  clock: SessionClock,
): Promise<ExitStatus> {
  let lastSignal: string | undefined;
  // Resizes and signals reach the engine paced: a flood of either from the
  // client must not flood the engine.
  if (ctx.pty) {
    ctx.onResize(pacedForwarder((size) => process.resize(size), {
      intervalMs: RESIZE_INTERVAL_MS,
      signal: ctx.signal,
      logger: ctx.logger,
      failureEvent: "session.resize_failed",
    }));
  }
  const sendSignal = pacedForwarder((name: string) => process.signal(name), {
    intervalMs: SIGNAL_INTERVAL_MS,
    signal: ctx.signal,
    logger: ctx.logger,
    failureEvent: "session.signal_failed",
  });
  ctx.onSignal((name) => {
    lastSignal = name;
    sendSignal(name);
  });

  const stdinDone = copyStdin(ctx, process, clock);
  const probe = new InitFailureProbe();
  let clientGone = false;
  for await (const chunk of probe.watch(process.output)) {
    if (clientGone) continue;
    clock.touch();
    try {
      // A write stalled on an exhausted window must not outlive the session.
      await untilAborted(ctx.io.write(chunk.stream, chunk.data), ctx.signal);
    } catch {
      // The client closed the channel: drain the output so the process can end.
      clientGone = true;
    }
  }
  // stdin is not awaited: a client may keep it open after the process ended.
  void stdinDone;
  // Ended by us (a timeout) or by the client leaving: the container is being
  // removed, so there is no exit status to ask the engine for.
  if (clock.expired !== undefined) {
    await tellUser(ctx, clock.expired);
    return { code: TIMED_OUT };
  }
  if (ctx.signal.aborted) return { code: 255 };
  const result = await process.wait();
  if (probe.failure !== undefined && result.code === 127) {
    throw new CapsuleError(
      "SHELL_NOT_FOUND",
      `Cannot start session: shell "${container.shell}" not found in image "${container.image}"`,
      { cause: new Error(probe.failure), exitCode: 127 },
    );
  }
  if (result.oomKilled) {
    throw new CapsuleError(
      "OUT_OF_MEMORY",
      `Session ended: out of memory (limit ${container.memory} bytes)`,
      { cause: new Error(`exit code ${result.code}, OOMKilled`), exitCode: result.code },
    );
  }
  if (lastSignal !== undefined && result.code === 128 + (SIGNAL_NUMBERS[lastSignal] ?? -999)) {
    return { signal: lastSignal };
  }
  return { code: result.code };
}

/** Resolves or rejects with `promise`, or rejects once `signal` aborts. */
function untilAborted<T>(promise: Promise<T>, signal: AbortSignal): Promise<T> {
  if (signal.aborted) return Promise.reject(signal.reason);
  return new Promise<T>((resolve, reject) => {
    const onAbort = () => reject(signal.reason);
    signal.addEventListener("abort", onAbort, { once: true });
    promise.then(resolve, reject).finally(() => signal.removeEventListener("abort", onAbort));
  });
}

async function copyStdin(
  ctx: SessionContext,
  process: RunningProcess,
  clock: SessionClock,
): Promise<void> {
  try {
    for await (const data of ctx.io.stdin) {
      clock.touch();
      await process.writeStdin(data);
    }
    await process.closeStdin();
  } catch (error) {
    ctx.logger.debug("session.stdin_closed", { error: describeError(error) });
  }
}
