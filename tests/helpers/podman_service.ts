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

/** Sends SIGTERM to every process whose command line names a path under `dir`. */
async function killProcessesUnder(dir: string): Promise<void> {
  for await (const entry of Deno.readDir("/proc")) {
    if (!/^\d+$/.test(entry.name)) continue;
    const cmdline = await Deno.readTextFile(`/proc/${entry.name}/cmdline`).catch(() => "");
    if (!cmdline.split("\0").some((arg) => arg.includes(`${dir}/`))) continue;
    try {
      Deno.kill(Number(entry.name), "SIGTERM");
    } catch {
      // Gone meanwhile.
    }
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
    await killProcessesUnder(dir);
    await mustRun([...podman, "system", "reset", "--force"], podmanEnv).catch(() => {});
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
