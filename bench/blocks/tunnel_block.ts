/**
 * Local forwarding (`ssh -L`), side by side: OpenSSH's own forwarding to a
 * server on the host (the floor), and capsule's, whose relay is exec'd in the
 * session's container, to a server there. Both servers are capsule's static
 * socat sending the blob a few times over; one target at a time.
 */
import { userInfo } from "node:os";
import { startCapsule } from "../capsule_server.ts";
import { addTarget, type BenchContext } from "../context.ts";
import { BENCH_INSTANCE_PREFIX } from "../docker_cli.ts";
import { BLOB_TARGET, shellQuote } from "../docker_run_model.ts";
import { hashCopies, measureTunnel, type TunnelPayload } from "../figures/tunnel.ts";
import { progress } from "../progress.ts";
import { sftpTools } from "../sftp_model.ts";
import { freePort, startSshd } from "../sshd_server.ts";
import { TUNNEL_CAPSULE, TUNNEL_OPENSSH } from "../targets.ts";
import { toolPath } from "../../src/tools/mod.ts";
import { finishCapsule } from "./capsule_block.ts";
import { dockerWatch, message } from "./sftp_run.ts";

const CAPSULE_USER = "bench";
/** The server's port on the container's loopback. */
const CONTAINER_PORT = 9000;

/** socat's arguments for a server on 127.0.0.1:`port` sending `copies` copies of `blob` to every connection. */
export function tunnelServer(blob: string, copies: number, port: number): string[] {
  const files = Array(copies).fill(blob).join(" ");
  return ["-U", `TCP-LISTEN:${port},bind=127.0.0.1,reuseaddr,fork`, `SYSTEM:cat ${files}`];
}

/** The same server started by the bench on the host, as its child (stopped by the caller). */
function hostServer(socat: string, args: string[]): Deno.ChildProcess {
  return new Deno.Command(socat, { args, stdin: "null", stdout: "null", stderr: "null" }).spawn();
}

/** Measures `ssh -L` through OpenSSH, then through capsule; one failing does not stop the other. */
export async function tunnelBlock(ctx: BenchContext): Promise<void> {
  const { settings, workspace: ws } = ctx;
  const tools = await sftpTools();
  progress(`tunnel: hashing ${settings.tunnelCopies} copies of the blob`);
  const expected = await hashCopies(ws.blob, settings.tunnelCopies);
  const common = { expected, runs: settings.tunnelRuns };

  const floor = addTarget(ctx, {
    id: TUNNEL_OPENSSH,
    label: "-L: OpenSSH, no container",
    description: "OpenSSH `sshd` with `AllowTcpForwarding local`: `ssh -L` to a server on the " +
      "host's loopback (capsule's static socat sending the blob)",
  });
  try {
    progress(`${floor.label}: starting sshd`);
    const sshd = await startSshd({
      dir: `${ws.dir}/sshd-tunnel`,
      authorizedKeysFile: ws.authorizedKeysFile,
      localForwarding: true,
    });
    ctx.cleanup.add("stop sshd (tunnel)", () => sshd.stop());
    // Not the session's child: sshd would leave it behind when the session ends.
    const port = freePort();
    const socat = hostServer(
      `${tools.dir}/bin/socat`,
      tunnelServer(ws.blob, settings.tunnelCopies, port),
    );
    try {
      progress(`${floor.label}: ${settings.tunnelRuns + 1} transfers`);
      ctx.results.tunnel[TUNNEL_OPENSSH] = await measureTunnel(
        { port: sshd.port, user: userInfo().username, identityFile: ws.keyFile },
        { ...common, remotePort: port, watched: {} },
      );
    } finally {
      try {
        socat.kill("SIGTERM");
      } catch {
        // Already exited.
      }
      await socat.status;
      await sshd.stop();
    }
  } catch (error) {
    ctx.results.errors.push(`${floor.label}: ${message(error)}`);
    progress(`${floor.label} failed: ${message(error)}`);
  }

  await capsuleTunnel(ctx, expected);
}

/** capsule, busybox, session mode, forwarding on: the server runs in the session's container. */
async function capsuleTunnel(ctx: BenchContext, expected: TunnelPayload): Promise<void> {
  const { settings, workspace: ws } = ctx;
  const target = addTarget(ctx, {
    id: TUNNEL_CAPSULE,
    label: "-L: capsule",
    description: "capsule (busybox, `container.mode: session`, `forwarding.local: true`): " +
      "`ssh -L` to a server on the session container's loopback (capsule's static socat " +
      "sending the blob), through a socat relay capsule execs in that container",
  });
  const instance = `${BENCH_INSTANCE_PREFIX}${ctx.runId}-tunnel`;
  progress(`${target.label}: starting`);
  const started = await startCapsule({
    root: ctx.root,
    dir: `${ws.dir}/${TUNNEL_CAPSULE}`,
    instance,
    user: CAPSULE_USER,
    publicKey: ws.publicKey,
    blob: ws.blob,
    blobTarget: BLOB_TARGET,
    extra: { container: { image: "busybox", mode: "session", forwarding: { local: true } } },
  });
  if (!started.ok) {
    target.availability = { ok: false, reason: started.reason };
    progress(`${target.label}: not available: ${started.reason}`);
    return;
  }
  const server = started.server;
  ctx.cleanup.add(`stop ${target.label}`, async () => void await server.stop());
  try {
    progress(`${target.label}: ${settings.tunnelRuns + 1} transfers`);
    ctx.results.tunnel[TUNNEL_CAPSULE] = await measureTunnel(
      { port: server.port, user: CAPSULE_USER, identityFile: ws.keyFile },
      {
        expected,
        runs: settings.tunnelRuns,
        // The session's own command: removed with the session's container.
        command: [
          toolPath("socat"),
          ...tunnelServer(BLOB_TARGET, settings.tunnelCopies, CONTAINER_PORT),
        ]
          .map(shellQuote).join(" "),
        remotePort: CONTAINER_PORT,
        watched: { capsule: server.pid, ...await dockerWatch() },
      },
    );
  } catch (error) {
    ctx.results.errors.push(`${target.label}: ${message(error)}`);
    progress(`${target.label} failed: ${message(error)}`);
  } finally {
    await finishCapsule(ctx, target.label, server, [`io.capsule.instance=${instance}`]);
  }
}
