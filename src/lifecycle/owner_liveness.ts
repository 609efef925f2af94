import { LABELS } from "../runtime/mod.ts";
import type { ProcessTokens } from "./process_beacon.ts";
import { containerName } from "./shared_containers.ts";
import type { SharedHolds } from "./shared_holds.ts";

/** Options of {@linkcode ownerLiveness}. */
export interface OwnerLivenessOptions {
  /** This server's instance label value. */
  instance: string;
  /** Owner ids this process uses now. */
  live: ReadonlySet<string>;
  /** This process's token and a judge of other processes'. */
  tokens: ProcessTokens;
  /** Claims on persistent containers, shared with the other processes of the instance. */
  holds: SharedHolds;
}

/**
 * Decides, for the orphan sweep, whether a container of this instance is in
 * use, when several capsule processes serve the instance (a server and its
 * `serve --stdio` siblings):
 *
 * - an owner this process uses is live;
 * - a persistent container (`user:<name>`, shared by processes) is live while
 *   a live process holds it or a grace period promised for it runs;
 * - any other container is its maker's alone (`io.capsule.process`): live
 *   while that process runs, or when this process cannot tell; a container of this process, or of none (an older capsule),
 *   that this process does not use is an orphan.
 *
 * @returns the `isLive` of an {@linkcode OrphanSweeper}
 */
export function ownerLiveness(
  options: OwnerLivenessOptions,
): (owner: string, labels: Readonly<Record<string, string>>) => Promise<boolean> {
  const { instance, live, tokens, holds } = options;
  return async (owner, labels) => {
    if (live.has(owner)) return true;
    if (labels[LABELS.mode] === "persistent") {
      return await holds.wanted(await containerName(instance, owner));
    }
    const maker = labels[LABELS.process];
    if (maker === undefined || maker === tokens.self) return false;
    return (await tokens.isAlive(maker)) !== false;
  };
}
