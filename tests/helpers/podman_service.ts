/**
 * Podman for the tests: Debian's `podman system service` serving its
 * Docker-compatible API on a private unix socket, with storage, run state and
 * containers.conf of its own (cgroupfs and a file event log: the test
 * machines run no systemd), set up as docs/engines.md tells operators to:
 * conmon through `packaging/podman/conmon-in-bundle`, or Podman 4 never
 * reports an OOM kill.
 */
import { mustRun, spawnLogged, type TestEngine, waitUntil } from "./test_engine.ts";

/** The conmon wrapper operators of Podman 4 install (see its comment). */
const CONMON_IN_BUNDLE = new URL("../../packaging/podman/conmon-in-bundle", import.meta.url);

function containersConf(conmon: string): string {
  return `[engine]
cgroup_manager = "cgroupfs"
events_logger = "file"
conmon_path = ["${conmon}"]
`;
}

/** The pids of the processes whose command line names a path under `dir`. */
async function processesUnder(dir: string): Promise<number[]> {
  const pids: number[] = [];
  for await (const entry of Deno.readDir("/proc")) {
    if (!/^\d+$/.test(entry.name)) continue;
    const cmdline = await Deno.readTextFile(`/proc/${entry.name}/cmdline`).catch(() => "");
    if (cmdline.split("\0").some((arg) => arg.includes(`${dir}/`))) pids.push(Number(entry.name));
  }
  return pids;
}

/**
 * Ends every process that runs from the storage under `dir`, until none is
 * left: a conmon that ends starts its exit command (`podman container
 * cleanup --root DIR/root ...`), which would make the storage anew (and
 * mount it) after the folder is gone. SIGKILL after 2 s.
 */
async function endProcessesUnder(dir: string): Promise<void> {
  for (let round = 0; round < 50; round++) {
    const pids = await processesUnder(dir);
    if (pids.length === 0) return;
    for (const pid of pids) {
      try {
        Deno.kill(pid, round < 20 ? "SIGTERM" : "SIGKILL");
      } catch {
        // Gone meanwhile.
      }
    }
    await new Promise((r) => setTimeout(r, 100));
  }
}

/** Starts the Podman service; stop it with `stop()`. */
export async function startPodmanService(): Promise<TestEngine> {
  const dir = await Deno.makeTempDir({ prefix: "capsule-podman-" });
  const socket = `${dir}/podman.sock`;
  const host = `unix://${socket}`;
  const conmon = `${dir}/conmon-in-bundle`;
  await Deno.copyFile(CONMON_IN_BUNDLE, conmon);
  await Deno.chmod(conmon, 0o755);
  await Deno.writeTextFile(`${dir}/containers.conf`, containersConf(conmon));
  const podman = [
    "podman",
    `--root=${dir}/root`,
    `--runroot=${dir}/run`,
    `--tmpdir=${dir}/tmp`,
    `--events-backend=file`,
    `--cgroup-manager=cgroupfs`,
  ];
  const podmanEnv = { CONTAINERS_CONF: `${dir}/containers.conf` };
  const logFile = `${dir}/service.log`;
  const child = spawnLogged([...podman, "system", "service", "--time=0", host], logFile, podmanEnv);
  const log = () => Deno.readTextFile(logFile).catch(() => "");
  const stop = async () => {
    // Containers are conmon's children, not the service's: remove them first.
    await mustRun([...podman, "rm", "--all", "--force", "--time=0"], podmanEnv).catch(() => {});
    try {
      child.kill("SIGTERM");
    } catch {
      // Already gone.
    }
    await child.status;
    // An exec's conmon can outlive its container: end whatever still runs from this storage.
    await endProcessesUnder(dir);
    await mustRun([...podman, "system", "reset", "--force"], podmanEnv).catch(() => {});
    await endProcessesUnder(dir);
    // The overlay driver bind-mounts its folder onto itself; reset leaves that mount.
    await mustRun(["umount", `${dir}/root/overlay`]).catch(() => {});
    await Deno.remove(dir, { recursive: true }).catch(() => {});
  };
  try {
    await waitUntil(async () => {
      const response = await fetch("http://podman/_ping", {
        client: Deno.createHttpClient({ proxy: { transport: "unix", path: socket } }),
      });
      await response.arrayBuffer();
      return response.ok;
    }, `podman system service on ${socket} did not answer`);
  } catch (error) {
    const text = await log();
    await stop();
    throw new Error(`${(error as Error).message}:\n${text}`);
  }
  return { kind: "podman", env: { DOCKER_HOST: host }, docker: { host }, log, stop };
}
