import type { SessionContext } from "./session_context.ts";

const encoder = new TextEncoder();

/**
 * Writes one `capsule: ...` line to the user's stderr (with `\r\n` on a
 * TTY). Never throws: a closed channel just drops the line.
 */
export async function tellUser(
  ctx: Pick<SessionContext, "io" | "pty">,
  message: string,
): Promise<void> {
  const line = `capsule: ${message}${ctx.pty ? "\r\n" : "\n"}`;
  await ctx.io.write("stderr", encoder.encode(line)).catch(() => {});
}
