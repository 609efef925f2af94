import { describeError } from "../errors/mod.ts";
import type { SessionContext, SessionIO, SessionMiddleware } from "../session/mod.ts";
import { AsciicastWriter, type CastFile, openCastFile } from "./asciicast_writer.ts";

/** Options of {@linkcode recordSession}. */
export interface RecordSessionOptions {
  /** The directory recordings go into. */
  dir: string;
  /** Record the user's input too. */
  input: boolean;
  /** Opens a session's file (for tests; default {@linkcode openCastFile}). */
  open?: (ctx: SessionContext, started: Date) => Promise<CastFile>;
}

/**
 * Records each TTY session (shell or exec with a TTY; never a subsystem) as
 * an asciicast v2 file: its size, its output, its resizes, and with
 * `input`, what the user types. A recording that cannot be opened or
 * written is logged (`recording.failed`, `recording.stopped`) and the
 * session runs on.
 */
export function recordSession(options: RecordSessionOptions): SessionMiddleware {
  const open = options.open ??
    ((ctx: SessionContext, started: Date) =>
      openCastFile(options.dir, { user: ctx.identity.username, session: ctx.id, started }));
  return (next) => async (ctx) => {
    if (ctx.pty === undefined || ctx.request.kind === "subsystem") return await next(ctx);
    const started = new Date();
    let cast: AsciicastWriter;
    try {
      cast = new AsciicastWriter(await open(ctx, started), {
        cols: ctx.pty.cols,
        rows: ctx.pty.rows,
        timestamp: started.getTime() / 1000,
        term: ctx.pty.term,
        title: ctx.request.kind === "exec"
          ? `${ctx.identity.username}: ${ctx.request.command}`.slice(0, 200)
          : `${ctx.identity.username}: shell`,
      }, {
        onStop: (reason) => ctx.logger.warn("recording.stopped", { reason }),
      });
    } catch (error) {
      ctx.logger.warn("recording.failed", { error: describeError(error) });
      return await next(ctx);
    }
    ctx.onResize((size) => cast.resize(size));
    const io: SessionIO = {
      stdin: options.input ? recorded(ctx.io.stdin, cast) : ctx.io.stdin,
      write(stream, data) {
        cast.data("o", data);
        return ctx.io.write(stream, data);
      },
    };
    try {
      return await next(Object.assign(Object.create(ctx), { io }));
    } finally {
      // Not awaited: a slow disk must not hold up the client's exit status.
      void cast.close().catch(() => {});
    }
  };
}

async function* recorded(
  source: AsyncIterable<Uint8Array>,
  cast: AsciicastWriter,
): AsyncIterable<Uint8Array> {
  for await (const chunk of source) {
    cast.data("i", chunk);
    yield chunk;
  }
}
