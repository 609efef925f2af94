import type { PullProgress } from "../runtime/mod.ts";
import type { SessionContext } from "./session_context.ts";

const encoder = new TextEncoder();

/** How often an updating line on a TTY is redrawn, at most. */
const TTY_EVERY_MS = 250;
/** How often a plain line is written, at most: a few for a long pull. */
const PLAIN_EVERY_MS = 3_000;

/**
 * Shows the user the pull their session waits for, on stderr, once the
 * registry has announced the image's layers: on a TTY one line redrawn in
 * place (`capsule: pulling IMAGE  120/480 MB`), without one a plain line at
 * the start, one every few seconds, and one at the end. A failed pull ends
 * its line; the error itself is the session's to tell.
 *
 * @returns the listener to hand to `ensureImage` as `onProgress`
 */
export function reportPullProgress(
  ctx: Pick<SessionContext, "io" | "pty">,
): (progress: PullProgress) => void {
  const tty = ctx.pty !== undefined;
  let lastMs: number | undefined;
  let open = false;
  const write = (text: string) => {
    void ctx.io.write("stderr", encoder.encode(text)).catch(() => {});
  };
  return (progress) => {
    const now = performance.now();
    const ending = progress.state !== "pulling";
    // Nothing until the registry has answered with the image's layers: a
    // pull refused at once leaves the user its one error line.
    if (!open && (ending || progress.total === 0)) return;
    if (!ending && lastMs !== undefined && now - lastMs < (tty ? TTY_EVERY_MS : PLAIN_EVERY_MS)) {
      return;
    }
    lastMs = now;
    open = true;
    if (tty) {
      const line = progress.state === "done"
        ? `capsule: pulled ${progress.image}${sizeOf(progress, true)}`
        : `capsule: pulling ${progress.image}${sizeOf(progress, false)}`;
      write(`\r${line}\x1b[K${ending ? "\r\n" : ""}`);
    } else if (progress.state === "done") {
      write(`capsule: pulled ${progress.image}${sizeOf(progress, true)}\n`);
    } else if (progress.state === "pulling") {
      write(`capsule: pulling ${progress.image}${sizeOf(progress, false)}\n`);
    }
  };
}

/** `  120/480 MB` while pulling, `  480 MB` at the end; nothing while no size is known. */
function sizeOf(progress: PullProgress, done: boolean): string {
  if (progress.total === 0) return "";
  return done
    ? `  ${megabytes(progress.total)} MB`
    : `  ${megabytes(progress.current)}/${megabytes(progress.total)} MB`;
}

function megabytes(bytes: number): string {
  const mb = bytes / 1e6;
  return mb < 10 ? mb.toFixed(1) : String(Math.round(mb));
}
