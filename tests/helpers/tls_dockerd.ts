/**
 * A second Docker engine for the tests, beside the machine's: `dockerd` on a
 * loopback port with `--tlsverify` and certificates made by `openssl`, its
 * own data root, exec root and pid file, a bridge of its own and no iptables
 * rules (so that it leaves docker0 and the firewall to the main engine), and
 * its containers under a cgroup parent of their own. Not `--bridge=none`:
 * a dockerd started with it deletes the docker0 interface, which the main
 * engine's bridge network then lacks.
 */
import { type EngineCerts, makeEngineCerts } from "./engine_certs.ts";
import { freePort, spawnLogged, type TestEngine, waitUntil } from "./test_engine.ts";

/** Starts the TLS engine; stop it with `stop()`. */
export async function startTlsDockerd(): Promise<TestEngine> {
  const dir = await Deno.makeTempDir({ prefix: "capsule-tls-engine-" });
  const certs: EngineCerts = await makeEngineCerts(`${dir}/certs`);
  const port = freePort();
  const host = `tcp://127.0.0.1:${port}`;
  const name = dir.split("/").pop()!;
  const logFile = `${dir}/dockerd.log`;
  const bridge = `ctls${crypto.randomUUID().slice(0, 6)}`;
  const subnet = `10.254.${Math.floor(Math.random() * 250) + 1}`;
  await ip(["link", "add", bridge, "type", "bridge"]);
  await ip(["addr", "add", `${subnet}.1/24`, "dev", bridge]);
  await ip(["link", "set", bridge, "up"]);
  const child = spawnLogged([
    "dockerd",
    `--data-root=${dir}/data`,
    `--exec-root=${dir}/exec`,
    `--pidfile=${dir}/dockerd.pid`,
    `-H`,
    host,
    "--tlsverify",
    `--tlscacert=${certs.ca}`,
    `--tlscert=${certs.serverCert}`,
    `--tlskey=${certs.serverKey}`,
    `--bridge=${bridge}`,
    "--iptables=false",
    "--ip-masq=false",
    "--ip-forward=false",
    `--cgroup-parent=/${name}`,
  ], logFile);
  const env = { DOCKER_HOST: host, DOCKER_TLS_VERIFY: "1", DOCKER_CERT_PATH: certs.dir };
  const log = () => Deno.readTextFile(logFile).catch(() => "");
  const stop = async () => {
    try {
      child.kill("SIGTERM");
    } catch {
      // Already gone.
    }
    await child.status;
    await ip(["link", "del", bridge]).catch(() => {});
    await removeCgroupParent(name);
    await Deno.remove(dir, { recursive: true }).catch(() => {});
  };
  try {
    await waitUntil(async () => {
      const out = await new Deno.Command("docker", {
        args: ["version", "--format", "{{.Server.Version}}"],
        env,
        stdout: "null",
        stderr: "null",
      }).output();
      return out.code === 0;
    }, `dockerd with --tlsverify on ${host} did not answer`);
  } catch (error) {
    const text = await log();
    await stop();
    throw new Error(`${(error as Error).message}:\n${text.split("\n").slice(-20).join("\n")}`);
  }
  return {
    kind: "tls",
    env,
    docker: { host, tls: { ca: certs.ca, cert: certs.clientCert, key: certs.clientKey } },
    certs,
    log,
    stop,
  };
}

/**
 * Removes the engine's cgroup parent, empty once its containers are gone, in
 * every cgroup v1 controller (or the one cgroup v2 tree); dockerd leaves it.
 * Through `rmdir`, which only an empty cgroup allows (and Deno's own file
 * calls want --allow-all under /sys).
 */
async function removeCgroupParent(name: string): Promise<void> {
  await new Deno.Command("sh", {
    args: [
      "-c",
      'for d in /sys/fs/cgroup/"$0" /sys/fs/cgroup/*/"$0"; do [ -d "$d" ] && rmdir "$d"; done; true',
      name,
    ],
    stdout: "null",
    stderr: "null",
  }).output();
}

/** Runs `ip` (iproute2); throws with its message when it fails. */
async function ip(args: string[]): Promise<void> {
  const out = await new Deno.Command("ip", { args, stdout: "null", stderr: "piped" }).output();
  if (out.code !== 0) {
    throw new Error(`ip ${args.join(" ")}: ${new TextDecoder().decode(out.stderr).trim()}`);
  }
}
