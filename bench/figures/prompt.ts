/**
 * Figure: from starting OpenSSH's `ssh -tt` (no command: a login shell on a
 * PTY) to the first shell prompt in its output.
 */
import { opensshArgs, type SshLogin } from "../openssh_client.ts";
import type { Series } from "../results.ts";

// Terminal control sequences (busybox's shell asks for the cursor position after its prompt).
// deno-lint-ignore no-control-regex
const ESCAPES = /\x1b\[[0-9;?]*[A-Za-z]/g;

/** How long one attempt may take before it counts as failed. */
const TIMEOUT_MS = 30_000;

/** One `ssh -tt` until busybox's root prompt (`# `) shows, in milliseconds; then `exit`. */
export async function promptOnce(login: SshLogin): Promise<number> {
  const started = performance.now();
  const child = new Deno.Command("ssh", {
    args: ["-tt", ...opensshArgs(login)],
    stdin: "piped",
    stdout: "piped",
    stderr: "piped",
  }).spawn();
  const errText = new Response(child.stderr).text();
  const timer = setTimeout(() => child.kill("SIGKILL"), TIMEOUT_MS);
  const writer = child.stdin.getWriter();
  try {
    const decoder = new TextDecoder();
    let text = "";
    let ms: number | undefined;
    for await (const data of child.stdout) {
      text += decoder.decode(data, { stream: true });
      if (ms === undefined && text.replace(ESCAPES, "").includes("# ")) {
        ms = performance.now() - started;
        await writer.write(new TextEncoder().encode("exit\n"));
        await writer.close();
      }
    }
    const status = await child.status;
    if (ms === undefined) {
      const shown = JSON.stringify(text.slice(0, 120));
      throw new Error(`no prompt (ssh exited ${status.code}); got ${shown} ${await errText}`);
    }
    return ms;
  } finally {
    clearTimeout(timer);
    await writer.close().catch(() => {});
  }
}

/** Measures `warmupRuns + runs` prompts one after another; times the last `runs`. */
export async function measurePrompt(
  login: SshLogin,
  options: { runs: number; warmupRuns: number },
): Promise<Series> {
  const series: Series = { attempts: 0, samples: [], failures: [] };
  for (let i = 0; i < options.warmupRuns + options.runs; i++) {
    try {
      const ms = await promptOnce(login);
      if (i < options.warmupRuns) continue;
      series.attempts++;
      series.samples.push(ms);
    } catch (error) {
      if (i < options.warmupRuns) continue;
      series.attempts++;
      series.failures.push(error instanceof Error ? error.message : String(error));
    }
  }
  return series;
}
