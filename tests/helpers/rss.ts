/** Resident memory of a server under test, sampled through `ps`. */
import assert from "node:assert/strict";

/** Resident memory of a process in bytes, through `ps` (Deno allows /proc reads only with --allow-all). */
export async function rssOf(pid: number): Promise<number> {
  const out = await new Deno.Command("ps", { args: ["-o", "rss=", "-p", String(pid)] }).output();
  const kb = Number(new TextDecoder().decode(out.stdout).trim());
  assert.ok(out.code === 0 && kb > 0, `cannot read the RSS of ${pid}`);
  return kb * 1024;
}

/** Samples the server's RSS until `stop` resolves; returns the highest value seen. */
export async function peakRss(pid: number, stop: Promise<unknown>): Promise<number> {
  let peak = await rssOf(pid);
  let done = false;
  void stop.finally(() => (done = true));
  while (!done) {
    peak = Math.max(peak, await rssOf(pid));
    await new Promise((r) => setTimeout(r, 250));
  }
  return peak;
}

/** How far the server's RSS rose above its level now while `during` runs (its peak minus now). */
export async function rssGrowth(pid: number, during: Promise<unknown>): Promise<number> {
  const before = await rssOf(pid);
  return (await peakRss(pid, during)) - before;
}
