/** The report's section on images pulled from a registry at login. */
import type { BenchResults } from "../results.ts";
import { PULL_COLD, PULL_PRESENT } from "../targets.ts";
import { median, summarize } from "../stats.ts";
import { ms } from "./format.ts";
import { table } from "./tables.ts";

/** The pull section, or nothing when the `pull` part did not run. */
export function pullSection(results: BenchResults): string {
  const cold = results.pull[PULL_COLD];
  const present = results.pull[PULL_PRESENT];
  if (cold === undefined && present === undefined) return "";
  const rows = [
    ["image pulled first", cold],
    ["image present", present],
  ].map(([label, series]) => {
    const s = typeof series === "object" ? series : undefined;
    const stats = summarize(s?.samples ?? []);
    return [
      String(label),
      `${s?.samples.length ?? 0}/${s?.attempts ?? 0}`,
      ms(stats?.median),
      ms(stats?.p95),
    ];
  });
  const coldMs = median(cold?.samples ?? []);
  const presentMs = median(present?.samples ?? []);
  const extra = coldMs !== undefined && presentMs !== undefined ? coldMs - presentMs : undefined;
  return `## First prompt with an image from a registry

\`ssh -tt\` to capsule's first shell prompt, as in the prompt figure, for a user whose image
(Debian's minbase, about 30 MB compressed, 74 MB unpacked) lives on a private registry: Debian's
\`docker-registry\` on loopback with an htpasswd login, credentials in \`docker.registries\`, the
pre-pull off. "Pulled first": the image is removed from the engine before every run, so each
login waits for a whole pull (and sees its progress on stderr); "present": it is there already.
The registry is on the same machine, so this is the engine's pull and unpack time, not a
network's.

${table(["image", "runs ok", "median", "p95"], rows)}

A pull adds ${
    ms(extra)
  } to the login that waits for it; \`docker.prePull\` (on by default) pulls the
images the config names at start-up, so no login needs to.`;
}
