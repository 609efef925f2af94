import type { ContainerConfig } from "../config/types.ts";
import { type ContainerSpec, type ExecSpec, LABELS } from "../runtime/mod.ts";
import type { SessionContext } from "../session/mod.ts";
import { sessionCommand, wantsTty } from "./_session_command.ts";
import { processId } from "./process_beacon.ts";

/** Who a container belongs to, as its labels say. */
export interface ContainerOwner {
  /** `session`, `connection`, `persistent` or `pool`. */
  mode: string;
  /**
   * The id a live-owner registry holds while the container is in use: the
   * session id, `connection:<id>`, `user:<name>` or `pool:<id>`.
   */
  owner: string;
  /** The SSH user; empty for a pooled container not yet handed out. */
  user: string;
  session?: string;
  connection?: string;
}

/**
 * The labels of a container: capsule's mark, the instance, the owner, the
 * process that made it, and its expiry.
 */
export function containerLabels(
  instance: string,
  owner: ContainerOwner,
  container: Pick<ContainerConfig, "maxLifetime" | "disk">,
  nowMs = Date.now(),
): Record<string, string> {
  return {
    [LABELS.managed]: "true",
    [LABELS.instance]: instance,
    [LABELS.mode]: owner.mode,
    [LABELS.owner]: owner.owner,
    [LABELS.user]: owner.user,
    [LABELS.process]: processId(),
    ...(owner.session !== undefined ? { [LABELS.session]: owner.session } : {}),
    ...(owner.connection !== undefined ? { [LABELS.connection]: owner.connection } : {}),
    ...(container.maxLifetime > 0
      ? { [LABELS.expires]: String(nowMs + container.maxLifetime * 1000) }
      : {}),
    ...(container.disk > 0 ? { [LABELS.disk]: String(container.disk) } : {}),
  };
}

/**
 * A session's environment: the allowed client variables, `TERM`,
 * `SSH_AUTH_SOCK` with agent forwarding, then the operator's, which win.
 */
export function sessionEnv(
  ctx: Pick<SessionContext, "env" | "pty" | "agentSocket">,
  container: ContainerConfig,
): string[] {
  const env = Object.entries(ctx.env).map(([k, v]) => `${k}=${v}`);
  if (ctx.pty) env.push(`TERM=${ctx.pty.term}`);
  if (ctx.agentSocket !== undefined) env.push(`SSH_AUTH_SOCK=${ctx.agentSocket}`);
  for (const [k, v] of Object.entries(container.env)) env.push(`${k}=${v}`);
  return env;
}

/** The settings every container of a profile shares, whatever it runs. */
function baseSpec(
  container: ContainerConfig,
): Omit<ContainerSpec, "name" | "cmd" | "env" | "tty" | "labels"> {
  return {
    image: container.image,
    shell: container.shell,
    workdir: container.workdir,
    user: container.user,
    hostname: container.hostname,
    memory: container.memory,
    cpus: container.cpus,
    pids: container.pids,
    network: container.network,
    mounts: container.mounts,
    capAdd: container.capAdd,
    noNewPrivileges: container.noNewPrivileges,
    privileged: container.privileged,
    disk: container.disk,
    readOnlyRootfs: container.readOnlyRootfs,
    tmpfs: container.tmpfs,
    ulimits: container.ulimits,
  };
}

/** The spec of a `session`-mode container: the session's process is the container's. */
export function sessionContainerSpec(
  ctx: SessionContext,
  container: ContainerConfig,
  instance: string,
  nowMs = Date.now(),
): ContainerSpec {
  return {
    ...baseSpec(container),
    name: `capsule-${ctx.id}`,
    cmd: sessionCommand(ctx, container),
    env: sessionEnv(ctx, container),
    tty: wantsTty(ctx),
    ...(ctx.pty && wantsTty(ctx) ? { size: { cols: ctx.pty.cols, rows: ctx.pty.rows } } : {}),
    labels: containerLabels(
      instance,
      {
        mode: "session",
        owner: ctx.id,
        user: ctx.identity.username,
        session: ctx.id,
        connection: ctx.connectionId,
      },
      container,
      nowMs,
    ),
  };
}

/**
 * The spec of a container that sessions are exec'd into (shared or pooled):
 * its own process is the shell waiting on an open stdin, and its environment
 * only the operator's.
 */
export function hostContainerSpec(
  container: ContainerConfig,
  name: string,
  labels: Record<string, string>,
): ContainerSpec {
  return {
    ...baseSpec(container),
    name,
    cmd: [container.shell],
    env: Object.entries(container.env).map(([k, v]) => `${k}=${v}`),
    tty: false,
    labels,
  };
}

/** A session's process exec'd into a running container. */
export function sessionExecSpec(ctx: SessionContext, container: ContainerConfig): ExecSpec {
  return {
    id: ctx.id,
    shell: container.shell,
    cmd: sessionCommand(ctx, container),
    env: sessionEnv(ctx, container),
    tty: wantsTty(ctx),
    ...(ctx.pty && wantsTty(ctx) ? { size: { cols: ctx.pty.cols, rows: ctx.pty.rows } } : {}),
    workdir: container.workdir,
    user: container.user,
  };
}
