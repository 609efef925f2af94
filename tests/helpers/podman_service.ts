/**
 * Podman for the tests: Debian's `podman system service` serving its
 * Docker-compatible API on a private unix socket, with storage, run state and
 * containers.conf of its own (cgroupfs and a file event log: the test
 * machines run no systemd).
 */
import { mustRun, spawnLogged, type TestEngine, waitUntil } from "./test_engine.ts";

const CONTAINERS_CONF = `[engine]
cgroup_manager = "cgroupfs"
events_logger = "file"
`;

/** Starts the Podman service; stop it with `stop()`. */
export async function startPodmanService(): Promise<TestEngine> {
  const dir = await Deno.makeTempDir({ prefix: "capsule-podman-" });
  const socket = `${dir}/podman.sock`;
  const host = `unix://${socket}`;
  await Deno.writeTextFile(`${dir}/containers.conf`, CONTAINERS_CONF);
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
    await mustRun([...podman, "system", "reset", "--force"], podmanEnv).catch(() => {});
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
