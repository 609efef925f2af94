/** Figure: the container floor, the API lifecycle of `true` timed step by step. */
import { ContainerFloor, LIFECYCLE_STEPS } from "../container_floor.ts";
import type { Series } from "../results.ts";

/** The lifecycle times, and each step's times. */
export interface LifecycleFigure {
  series: Series;
  steps: Record<string, number[]>;
}

/** Runs the lifecycle `warmupRuns + runs` times; times the last `runs`. */
export async function measureLifecycle(
  runId: string,
  options: { runs: number; warmupRuns: number },
): Promise<LifecycleFigure> {
  const floor = new ContainerFloor(runId);
  const series: Series = { attempts: 0, samples: [], failures: [] };
  const steps: Record<string, number[]> = Object.fromEntries(LIFECYCLE_STEPS.map((s) => [s, []]));
  for (let i = 0; i < options.warmupRuns + options.runs; i++) {
    try {
      const timing = await floor.once();
      if (i < options.warmupRuns) continue;
      series.attempts++;
      series.samples.push(timing.total);
      for (const step of LIFECYCLE_STEPS) steps[step]!.push(timing.steps[step]);
    } catch (error) {
      if (i < options.warmupRuns) continue;
      series.attempts++;
      series.failures.push(error instanceof Error ? error.message : String(error));
    }
  }
  return { series, steps };
}
