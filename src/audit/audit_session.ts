import { CapsuleError } from "../errors/mod.ts";
import type {
  ExitStatus,
  SessionContext,
  SessionIO,
  SessionMiddleware,
  SessionRequest,
} from "../session/mod.ts";
import type { AuditFields, AuditRecorder } from "./audit_event.ts";
import { SftpLogParser, type SftpOperation } from "./sftp_log_parser.ts";

/** Errors that are a policy's refusal, not a failure: audited as `session.refused`. */
const REFUSALS = new Set([
  "SESSION_CAP_REACHED",
  "CONTAINER_CAP_REACHED",
  "CONNECTION_CAP_REACHED",
]);

/** Options of {@linkcode auditSession}. */
export interface AuditSessionOptions {
  /**
   * Have the sftp subsystem log its operations on stderr, and turn that
   * stderr into `sftp.*` events instead of sending it to the client (whose
   * sftp would print it).
   */
  sftp: boolean;
  /**
   * Most `sftp.*` events recorded per session (0: no cap). Past it, one
   * `sftp.capped` event; the rest are dropped and counted in `session.end`'s
   * `sftp_dropped`, so that a client doing a million `stat`s cannot fill the
   * disk. Default: no cap.
   */
  sftpEventsPerSession?: number;
}

/** The envelope fields of a session's events. */
export function sessionFields(ctx: Pick<SessionContext, "connectionId" | "identity" | "id">) {
  return { connection: ctx.connectionId, user: ctx.identity.username, session: ctx.id };
}

/**
 * Audits each session's end (`session.end`: exit status or signal, duration,
 * bytes in and out) and a cap's refusal (`session.refused`), and with
 * `options.sftp`, the SFTP operations. Its start is audited where the
 * container is known (see {@linkcode auditPlacement}). Sits inside
 * `recoverErrors`, so that it sees the error that ended a session.
 *
 * @param recorder where events go
 */
export function auditSession(
  recorder: AuditRecorder,
  options: AuditSessionOptions,
): SessionMiddleware {
  return (next) => async (ctx) => {
    const started = performance.now();
    const base = sessionFields(ctx);
    const counted = { in: 0, out: 0 };
    const capped = capSftpEvents(recorder, base, options.sftpEventsPerSession ?? 0);
    const sftp = options.sftp && ctx.request.kind === "subsystem"
      ? new SftpLogParser(capped.record)
      : undefined;
    const io: SessionIO = {
      stdin: countBytes(ctx.io.stdin, (n) => (counted.in += n)),
      write(stream, data) {
        if (sftp && stream === "stderr") {
          sftp.push(data);
          return Promise.resolve();
        }
        counted.out += data.length;
        return ctx.io.write(stream, data);
      },
    };
    const request: SessionRequest = sftp && ctx.request.kind === "subsystem"
      ? { ...ctx.request, log: true }
      : ctx.request;
    // The context's own methods and fields, with the io and request above.
    const inner: SessionContext = Object.assign(Object.create(ctx), { io, request });
    const end = (fields: AuditFields) => {
      sftp?.end();
      recorder.record("session.end", {
        ...base,
        kind: ctx.request.kind,
        ...fields,
        duration_ms: Math.round(performance.now() - started),
        bytes_in: counted.in,
        bytes_out: counted.out,
        ...(capped.dropped > 0 ? { sftp_dropped: capped.dropped } : {}),
      });
    };
    let status: ExitStatus;
    try {
      status = await next(inner);
    } catch (error) {
      const code = error instanceof CapsuleError ? error.code : "INTERNAL";
      if (REFUSALS.has(code)) {
        recorder.record("session.refused", { ...base, kind: ctx.request.kind, reason: code });
      }
      end({
        exit_code: error instanceof CapsuleError ? error.exitCode : 255,
        error: code,
      });
      throw error;
    }
    end("code" in status ? { exit_code: status.code } : { exit_signal: status.signal });
    return status;
  };
}

async function* countBytes(
  source: AsyncIterable<Uint8Array>,
  add: (n: number) => void,
): AsyncIterable<Uint8Array> {
  for await (const chunk of source) {
    add(chunk.length);
    yield chunk;
  }
}

/**
 * Records a session's SFTP operations up to `cap` (0: all of them); the
 * first one past it records `sftp.capped` instead, and it and the rest are
 * only counted.
 */
function capSftpEvents(recorder: AuditRecorder, base: AuditFields, cap: number) {
  let recorded = 0;
  const state = {
    dropped: 0,
    record(op: SftpOperation): void {
      if (cap === 0 || recorded < cap) {
        recorded++;
        recorder.record(op.event, { ...base, ...op.fields });
        return;
      }
      if (state.dropped++ === 0) recorder.record("sftp.capped", { ...base, limit: cap });
    },
  };
  return state;
}
