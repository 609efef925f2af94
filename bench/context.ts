/** What every part of a run shares. */
import type { Cleanup } from "./cleanup.ts";
import type { BenchResults, TargetInfo } from "./results.ts";
import type { Settings } from "./settings.ts";
import type { Workspace } from "./workspace.ts";

/** The state of one bench run. */
export interface BenchContext {
  root: string;
  /** Short random id: labels and instance names of this run. */
  runId: string;
  settings: Settings;
  results: BenchResults;
  workspace: Workspace;
  cleanup: Cleanup;
}

/** Adds a target to the results (available until said otherwise) and returns it. */
export function addTarget(
  ctx: BenchContext,
  target: Omit<TargetInfo, "availability">,
): TargetInfo {
  const info: TargetInfo = { ...target, availability: { ok: true } };
  ctx.results.targets.push(info);
  return info;
}
