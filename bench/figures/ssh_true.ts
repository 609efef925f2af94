/** Figure: wall time of `ssh host true` with the OpenSSH client, and exit status checks. */
import { opensshCommand, type SshLogin } from "../openssh_client.ts";
import { firstLine, runProcess } from "../process.ts";
import type { ExitCheck, Series } from "../results.ts";

/** Options of {@linkcode measureSshTrue}. */
export interface SshTrueOptions {
  runs: number;
  warmupRuns: number;
  /** More client options (e.g. a key exchange). */
  extra?: readonly string[];
  /** Called after each recorded run with its index (from 1). */
  onRun?: (index: number) => void;
}

/** Runs `ssh host true` `warmupRuns + runs` times, one after another; times the last `runs`. */
export async function measureSshTrue(login: SshLogin, options: SshTrueOptions): Promise<Series> {
  const series: Series = { attempts: 0, samples: [], failures: [] };
  const args = opensshCommand(login, "true", options.extra ?? []);
  for (let i = 0; i < options.warmupRuns + options.runs; i++) {
    const result = await runProcess("ssh", args, { timeoutMs: 60_000 });
    if (i < options.warmupRuns) continue;
    series.attempts++;
    if (result.code === 0 && !result.timedOut) series.samples.push(result.ms);
    else {
      series.failures.push(
        result.timedOut
          ? "timed out after 60 s"
          : `exit ${result.code}: ${firstLine(result.stderr)}`,
      );
    }
    options.onRun?.(series.attempts);
  }
  return series;
}

/** Runs `ssh host 'exit 3'` once: the exit status must arrive exactly. */
export async function checkExitStatus(login: SshLogin, expected = 3): Promise<ExitCheck> {
  const result = await runProcess("ssh", opensshCommand(login, `exit ${expected}`), {
    timeoutMs: 60_000,
  });
  return { expected, got: result.code, ok: result.code === expected };
}
