/** The figures every SSH target with containers gets: true, exit status, prompt, throughput, concurrency. */
import type { LogRecord } from "../capsule_server.ts";
import type { BenchContext } from "../context.ts";
import { BLOB_TARGET } from "../docker_run_model.ts";
import { capsulePhases, containerModes } from "../figures/capsule_phases.ts";
import { measureConcurrency } from "../figures/concurrency.ts";
import { delayBetween, metricsUrl, scrapeDelay } from "../figures/loop_delay.ts";
import { measurePrompt } from "../figures/prompt.ts";
import { checkExitStatus, measureSshTrue } from "../figures/ssh_true.ts";
import { measureThroughput, stdinRun, stdoutRun, type Watched } from "../figures/throughput.ts";
import { dockerdPid } from "../cpu.ts";
import { opensshCommand, type SshLogin } from "../openssh_client.ts";
import { progress } from "../progress.ts";

/** A running SSH target that gives each session a container. */
export interface SessionTarget {
  id: string;
  label: string;
  port: number;
  user: string;
  /** Label filters that find this target's containers. */
  containerLabels: readonly string[];
  /** Containers the target keeps between sessions (a warm pool). */
  warmContainers: number;
  /** capsule's log, to split `ssh host true` into phases. */
  logs?: readonly LogRecord[];
  /** Server process whose RSS is sampled during the concurrency runs, and CPU time read. */
  rssPid?: number;
}

/**
 * Measures every session figure of one target, in a fixed order: concurrency
 * comes before throughput, so that its memory peak is not the throughput's.
 */
export async function sessionFigures(ctx: BenchContext, target: SessionTarget): Promise<void> {
  const { settings, results, workspace: ws } = ctx;
  const login: SshLogin = { port: target.port, user: target.user, identityFile: ws.keyFile };
  const name = target.label;
  const dockerd = await dockerdPid();
  const watched: Watched = {
    ...(target.rssPid !== undefined ? { capsule: target.rssPid } : {}),
    ...(dockerd !== undefined ? { dockerd } : {}),
  };

  progress(`${name}: ssh host true (${settings.warmupRuns} warm-up + ${settings.trueRuns})`);
  await measureSshTrue(login, { runs: settings.warmupRuns, warmupRuns: 0 });
  const mark = target.logs?.length ?? 0;
  results.sshTrue[target.id] = await measureSshTrue(login, {
    runs: settings.trueRuns,
    warmupRuns: 0,
  });
  if (target.logs) {
    const window = target.logs.slice(mark);
    results.phases[target.id] = capsulePhases(window);
    results.containerModes[target.id] = containerModes(window);
  }
  results.exitStatus[target.id] = await checkExitStatus(login, 3);

  progress(`${name}: connect to first prompt`);
  results.prompt[target.id] = await measurePrompt(login, {
    runs: settings.promptRuns,
    warmupRuns: settings.warmupRuns,
  });

  results.concurrency[target.id] = [];
  const metrics = target.logs ? metricsUrl(target.logs) : undefined;
  for (const sessions of settings.concurrency) {
    progress(`${name}: ${sessions} concurrent sessions`);
    const logMark = target.logs?.length ?? 0;
    const delayBefore = metrics ? await scrapeDelay(metrics) : undefined;
    const run = await measureConcurrency(login, {
      sessions,
      containerLabels: target.containerLabels,
      warmContainers: target.warmContainers,
      watched,
      ...(target.rssPid !== undefined ? { rssPid: target.rssPid } : {}),
    });
    const delayAfter = metrics ? await scrapeDelay(metrics) : undefined;
    if (delayBefore && delayAfter) run.loopDelay = delayBetween(delayBefore, delayAfter);
    if (target.logs) run.phases = capsulePhases(target.logs.slice(logMark));
    results.concurrency[target.id]!.push(run);
  }

  progress(`${name}: stdout throughput`);
  results.stdout[target.id] = await measureThroughput(
    stdoutRun,
    ["ssh", opensshCommand(login, `cat ${BLOB_TARGET}`)],
    ws,
    settings.throughputRuns,
    watched,
  );
  progress(`${name}: stdin throughput`);
  results.stdin[target.id] = await measureThroughput(
    stdinRun,
    ["ssh", opensshCommand(login, "sha256sum")],
    ws,
    settings.throughputRuns,
    watched,
  );
}
