/**
 * Same-run A/B of capsule's session throughput: two capsule servers (two
 * checkouts, or one checkout under two environments) measured in turns,
 * round after round, so that the load of a shared machine falls on both
 * alike. Prints per side the median MiB/s and the median CPU time capsule
 * spent per GiB moved (less noisy than MiB/s when the machine is busy), in
 * all and on its main thread.
 *
 *   deno run -A bench/ab.ts --a /tmp/base --b . [--rounds 5] [--mib 256]
 *     [--modes stdout,stdin] [--env-b '{"DENO_V8_FLAGS":"..."}']
 *     [--ssh-b '-c aes128-gcm@openssh.com']
 *
 * A side is a repository root holding main.ts (`git archive HEAD | tar -x
 * -C /tmp/base` makes a baseline). Needs busybox, like `deno task bench`.
 */
import { parseArgs } from "node:util";
import { startCapsule } from "./capsule_server.ts";
import { cpuMs, mainThreadCpuMs } from "./cpu.ts";
import { opensshCommand } from "./openssh_client.ts";
import { runProcess } from "./process.ts";
import { median } from "./stats.ts";
import { writeRandomFile } from "./workspace.ts";

const { values } = parseArgs({
  options: {
    a: { type: "string", default: "." },
    b: { type: "string", default: "." },
    rounds: { type: "string", default: "5" },
    mib: { type: "string", default: "256" },
    modes: { type: "string", default: "stdout,stdin" },
    "env-a": { type: "string", default: "{}" },
    "env-b": { type: "string", default: "{}" },
    "ssh-a": { type: "string", default: "" },
    "ssh-b": { type: "string", default: "" },
  },
});

const BLOB_TARGET = "/bench/blob";
const dir = await Deno.makeTempDir({ prefix: "capsule-ab-" });
const user = "bench";
const keyFile = `${dir}/key`;
const keygen = await runProcess("ssh-keygen", ["-q", "-t", "ed25519", "-N", "", "-f", keyFile]);
if (keygen.code !== 0) throw new Error(`ssh-keygen failed: ${keygen.stderr}`);
const publicKey = (await Deno.readTextFile(`${keyFile}.pub`)).trim();
const blob = `${dir}/blob`;
const bytes = Number(values.mib) * 2 ** 20;
const sha256 = await writeRandomFile(blob, bytes);

interface Side {
  name: "a" | "b";
  root: string;
  env: Record<string, string>;
  ssh: string[];
}
const sides: Side[] = (["a", "b"] as const).map((name) => ({
  name,
  root: Deno.realPathSync(values[name]),
  env: JSON.parse(values[`env-${name}`]) as Record<string, string>,
  ssh: values[`ssh-${name}`].split(" ").filter((w) => w !== ""),
}));

const servers = [];
try {
  for (const side of sides) {
    // The child inherits the environment at its start.
    const saved = Object.fromEntries(Object.keys(side.env).map((k) => [k, Deno.env.get(k)]));
    for (const [k, v] of Object.entries(side.env)) Deno.env.set(k, v);
    const started = await startCapsule({
      root: side.root,
      dir: `${dir}/${side.name}`,
      instance: `ab${side.name}${crypto.randomUUID().slice(0, 6)}`,
      user,
      publicKey,
      blob,
      blobTarget: BLOB_TARGET,
      extra: {},
    });
    for (const [k, v] of Object.entries(saved)) {
      v === undefined ? Deno.env.delete(k) : Deno.env.set(k, v);
    }
    if (!started.ok) throw new Error(`capsule (${side.root}) did not start: ${started.reason}`);
    servers.push({ side, server: started.server });
  }

  const rates = new Map<string, number[]>();
  const cpu = new Map<string, number[]>();
  const mainCpu = new Map<string, number[]>();
  for (let round = 0; round < Number(values.rounds); round++) {
    for (const mode of values.modes.split(",")) {
      for (const { side, server } of servers) {
        const login = { port: server.port, user, identityFile: keyFile };
        const ssh = opensshCommand(
          login,
          mode === "stdout" ? `cat ${BLOB_TARGET}` : "sha256sum",
          side.ssh,
        )
          .map((w) => `'${w.replaceAll("'", `'\\''`)}'`).join(" ");
        const script = mode === "stdout" ? `ssh ${ssh} | sha256sum` : `ssh ${ssh} < '${blob}'`;
        const before = await cpuMs(server.pid);
        const mainBefore = await mainThreadCpuMs(server.pid);
        const started = performance.now();
        const result = await runProcess("sh", ["-c", script], { timeoutMs: 600_000 });
        const ms = performance.now() - started;
        const after = await cpuMs(server.pid);
        const mainAfter = await mainThreadCpuMs(server.pid);
        if (!result.stdout.startsWith(sha256)) {
          throw new Error(`${mode} via ${side.name}: wrong bytes (${result.stderr.trim()})`);
        }
        const key = `${mode} ${side.name}`;
        rates.set(key, [...rates.get(key) ?? [], bytes / 2 ** 20 / (ms / 1000)]);
        if (before !== undefined && after !== undefined) {
          cpu.set(key, [...cpu.get(key) ?? [], (after - before) / (bytes / 2 ** 30)]);
        }
        if (mainBefore !== undefined && mainAfter !== undefined) {
          mainCpu.set(key, [
            ...mainCpu.get(key) ?? [],
            (mainAfter - mainBefore) / (bytes / 2 ** 30),
          ]);
        }
      }
    }
  }
  for (const [key, list] of rates) {
    const side = sides.find((s) => s.name === key.split(" ")[1])!;
    const cpuList = cpu.get(key) ?? [];
    console.log(
      `${key.padEnd(9)} ${(median(list) ?? 0).toFixed(1).padStart(6)} MiB/s (${
        list.map((r) => r.toFixed(0)).join(",")
      }), capsule CPU ${(median(cpuList) ?? Number.NaN).toFixed(0)} ms/GiB (main thread ${
        (median(mainCpu.get(key) ?? []) ?? Number.NaN).toFixed(0)
      })  ${side.root} ${JSON.stringify(side.env)} ${side.ssh.join(" ")}`,
    );
  }
} finally {
  for (const { server } of servers) await server.stop();
  await Deno.remove(dir, { recursive: true });
}
