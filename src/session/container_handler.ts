import type { ConnectionIdentity } from "../auth/mod.ts";
import type { ContainerConfig } from "../config/types.ts";
import { CapsuleError, describeError, shellNotFound } from "../errors/mod.ts";
import type { RunningProcess } from "../runtime/mod.ts";
import { pacedForwarder } from "./paced_forwarder.ts";
import { InitFailureProbe } from "./_init_failure.ts";
import type { PlacedProcess, Placement } from "./placement.ts";
import { SessionClock } from "./session_clock.ts";
import { tellUser } from "./tell_user.ts";
import type { ExitStatus, SessionContext, SessionHandler } from "./session_context.ts";

/** Options of {@linkcode containerHandler}. */
export interface ContainerHandlerOptions {
  /**
   * The container settings of a session's connection (the global settings,
   * its profile's, its user's overrides, a config webhook's answer).
   */
  containerFor(owner: ConnectionIdentity): ContainerConfig;
  /**
   * Takes the release of a session's container (its removal, mostly), which
   * then finishes after the client has its exit status: removing a container
   * takes longer than the rest of a short session. The caller must await
   * what it took before it stops. Without it, the handler waits.
   */
  track?(release: Promise<void>): void;
  /**
   * Told which container a session's process runs in once it does; the call
   * it returns is made when the session ends (for forwarding, which goes to
   * the container of the connection's session).
   */
  onPlaced?(ctx: SessionContext, containerId: string): () => void;
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

/**
 * The innermost session handler: has `placement` start the session's shell or
 * command in a container, pipes stdin and output with backpressure both ways,
 * forwards resizes and signals, enforces the timeouts, and gives the
 * container back whatever happens.
 */
export function containerHandler(
  placement: Placement,
  options: ContainerHandlerOptions,
): SessionHandler {
  return async (ctx) => {
    const container = options.containerFor(ctx);
    const placed = await placement.launch(ctx, container);
    const unplace = options.onPlaced?.(ctx, placed.process.containerId);
    const end = () => placed.end();
    ctx.signal.addEventListener("abort", end, { once: true });
    // The client may have left while the container was being created.
    if (ctx.signal.aborted) end();
    try {
      return await pump(ctx, placed, container);
    } finally {
      unplace?.();
      ctx.signal.removeEventListener("abort", end);
      const released = placed.release().catch((error) => {
        ctx.logger.error("container.release_failed", { error: describeError(error) });
      });
      if (options.track) options.track(released);
      else await released;
    }
  };
}

/** Exit status of a session ended by a timeout, as timeout(1) uses. */
const TIMED_OUT = 124;

async function pump(
  ctx: SessionContext,
  placed: PlacedProcess,
  container: ContainerConfig,
): Promise<ExitStatus> {
  const clock = new SessionClock({
    idleMs: container.idleTimeout * 1000,
    maxMs: container.maxSessionTime * 1000,
    warn: (message) => void tellUser(ctx, message),
    expire: (reason) => {
      ctx.logger.info("session.timeout", { reason });
      placed.end();
    },
  });
  const onExpired = () => clock.end(String(placed.expired.reason));
  placed.expired.addEventListener("abort", onExpired, { once: true });
  if (placed.expired.aborted) onExpired();
  try {
    return await pumpStreams(ctx, placed.process, container, clock);
  } finally {
    placed.expired.removeEventListener("abort", onExpired);
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
  // A subsystem (sftp) runs without a TTY even when the client asked for one.
  if (ctx.pty && ctx.request.kind !== "subsystem") {
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
  // Ended by us (a timeout) or by the client leaving: the process is being
  // ended, so there is no exit status to ask the engine for.
  const endedByUs = async (): Promise<ExitStatus | undefined> => {
    if (clock.expired !== undefined) {
      await tellUser(ctx, clock.expired);
      return { code: TIMED_OUT };
    }
    return ctx.signal.aborted ? { code: 255 } : undefined;
  };
  const before = await endedByUs();
  if (before) return before;
  // The process may run on after its output ended (it closed stdout and
  // stderr); a timeout or the client leaving meanwhile ends it as above.
  const result = await process.wait().catch((error: unknown) =>
    error instanceof Error ? error : new Error(String(error))
  );
  const after = await endedByUs();
  if (after) return after;
  if (result instanceof Error) throw result;
  if (probe.explains(result.code)) {
    throw shellNotFound(container.shell, container.image, { cause: new Error(probe.failure) });
  }
  if (lastSignal !== undefined && result.code === 128 + (SIGNAL_NUMBERS[lastSignal] ?? -999)) {
    return { signal: lastSignal };
  }
  if (result.oomKilled) {
    throw new CapsuleError(
      "OUT_OF_MEMORY",
      `Session ended: out of memory (limit ${container.memory} bytes)`,
      { cause: new Error(`exit code ${result.code}, OOMKilled`), exitCode: result.code },
    );
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
