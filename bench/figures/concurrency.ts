/** Figure: many sessions at once, each `sleep 2; echo ok`, through OpenSSH clients. */
import { waitForContainersGone } from "../docker_cli.ts";
import { opensshCommand, type SshLogin } from "../openssh_client.ts";
import { cpuMs } from "../cpu.ts";
import { firstLine, runProcess } from "../process.ts";
import type { ConcurrencyRun } from "../results.ts";
import { rssKiB, RssSampler } from "../rss.ts";

/** Options of {@linkcode measureConcurrency}. */
export interface ConcurrencyOptions {
  sessions: number;
  /** Label filters that find this target's containers (to wait for their removal). */
  containerLabels: readonly string[];
  /** Containers the target keeps between sessions (a warm pool). */
  warmContainers: number;
  /** A server process whose RSS is sampled every 100 ms during the run. */
  rssPid?: number;
  /** Processes whose CPU time is read before and after the run, by name. */
  watched?: Record<string, number>;
}

/** The command every session runs. */
export const CONCURRENT_COMMAND = "sleep 2; echo ok";

/** Starts `sessions` clients at once and waits for all of them. */
export async function measureConcurrency(
  login: SshLogin,
  options: ConcurrencyOptions,
): Promise<ConcurrencyRun> {
  const args = opensshCommand(login, CONCURRENT_COMMAND);
  const rssBefore = options.rssPid === undefined ? undefined : await rssKiB(options.rssPid);
  const watched = Object.entries(options.watched ?? {});
  const cpuBefore = await Promise.all(watched.map(([, pid]) => cpuMs(pid)));
  const sampler = options.rssPid === undefined ? undefined : new RssSampler(options.rssPid);
  const started = performance.now();
  const results = await Promise.all(
    Array.from({ length: options.sessions }, () => runProcess("ssh", args, { timeoutMs: 180_000 })),
  );
  const wallMs = performance.now() - started;
  const peak = await sampler?.stop();
  const cpuAfter = await Promise.all(watched.map(([, pid]) => cpuMs(pid)));
  const used: Record<string, number> = {};
  watched.forEach(([name], i) => {
    const a = cpuBefore[i];
    const b = cpuAfter[i];
    if (a !== undefined && b !== undefined) used[name] = b - a;
  });

  const latencies: number[] = [];
  const failures = new Map<string, number>();
  for (const result of results) {
    if (result.code === 0 && result.stdout === "ok\n") {
      latencies.push(result.ms);
      continue;
    }
    const why = result.timedOut
      ? "timed out"
      : result.code !== 0
      ? `exit ${result.code}: ${firstLine(result.stderr)}`
      : `output ${JSON.stringify(result.stdout.slice(0, 40))}`;
    failures.set(why, (failures.get(why) ?? 0) + 1);
  }
  const leftContainers = await waitForContainersGone(options.containerLabels, {
    timeoutMs: 60_000,
    allowed: options.warmContainers,
  });
  return {
    sessions: options.sessions,
    ok: latencies.length,
    latencies,
    wallMs,
    failures: [...failures].map(([why, count]) => `${count}× ${why}`),
    leftContainers,
    ...(Object.keys(used).length > 0 ? { cpuMs: used } : {}),
    ...(rssBefore !== undefined ? { rssBeforeKiB: rssBefore } : {}),
    ...(peak !== undefined && peak.samples > 0 ? { peakRssKiB: peak.peakKiB } : {}),
  };
}
