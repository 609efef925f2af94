// @ts-types="@types/dockerode"
import type Docker from "dockerode";
import { onceSized } from "./_tty_size.ts";
import type { ContainerSpec } from "./container_runtime.ts";
import { TOOLS_MOUNT } from "../tools/mod.ts";

/**
 * The engine's create options for `spec`, locked down: docker-init as PID 1,
 * the memory, CPU and process limits, ulimits, tmpfs mounts, every
 * capability dropped, no engine log, and (with `diskQuota`) a storage quota
 * of `spec.disk` bytes. `attached` keeps stdin open for one attach only (a session's
 * own container); otherwise it stays open with nobody attached (a container
 * that sessions are exec'd into).
 */
export function containerCreateOptions(
  spec: ContainerSpec,
  attached: boolean,
  options: { diskQuota?: boolean; toolsVolume?: string } = {},
): Docker.ContainerCreateOptions {
  return {
    name: spec.name,
    Image: spec.image,
    Cmd: attached && spec.tty ? onceSized(spec.shell, spec.cmd) : spec.cmd,
    Env: spec.env,
    Tty: spec.tty,
    OpenStdin: true,
    // A detached container keeps its stdin open with nobody attached.
    StdinOnce: attached,
    AttachStdin: attached,
    AttachStdout: attached,
    AttachStderr: attached,
    Labels: spec.labels,
    WorkingDir: spec.workdir,
    User: spec.user,
    Hostname: spec.hostname,
    HostConfig: {
      // docker-init as PID 1 forwards signals and reaps zombies.
      Init: true,
      AutoRemove: false,
      NetworkMode: spec.network,
      Memory: spec.memory,
      // Equal to Memory: no swap on top of the memory limit.
      MemorySwap: spec.memory,
      NanoCpus: Math.round(spec.cpus * 1e9),
      PidsLimit: spec.pids > 0 ? spec.pids : null,
      Binds: spec.mounts.map((m) => `${m.source}:${m.target}${m.readOnly ? ":ro" : ""}`),
      ...(options.toolsVolume
        ? {
          Mounts: [{
            Type: "volume",
            Source: options.toolsVolume,
            Target: TOOLS_MOUNT,
            ReadOnly: true,
          }],
        }
        : {}),
      // Locked down by default: no capabilities, no privilege gain, the
      // engine's default seccomp profile, and no engine log of the session.
      CapDrop: ["ALL"],
      CapAdd: spec.capAdd,
      SecurityOpt: spec.noNewPrivileges ? ["no-new-privileges"] : [],
      Privileged: spec.privileged,
      LogConfig: { Type: "none", Config: {} },
      ReadonlyRootfs: spec.readOnlyRootfs,
      Tmpfs: Object.fromEntries(
        Object.entries(spec.tmpfs).map(([path, bytes]) => [path, `size=${bytes},mode=1777`]),
      ),
      Ulimits: ulimitsOf(spec, options.diskQuota === true),
      ...(options.diskQuota && spec.disk > 0 ? { StorageOpt: { size: String(spec.disk) } } : {}),
    } as Docker.HostConfig,
  };
}

/**
 * The container's ulimits. Without a storage quota, `spec.disk` also becomes
 * the largest file a process may write (`fsize`, unless set): one file can
 * then never outgrow the limit, and the disk watcher only has to catch many
 * smaller ones.
 */
function ulimitsOf(spec: ContainerSpec, diskQuota: boolean): Docker.HostConfig["Ulimits"] {
  const ulimits = Object.entries(spec.ulimits).map(([Name, { soft, hard }]) => ({
    Name,
    Soft: soft,
    Hard: hard,
  }));
  if (!diskQuota && spec.disk > 0 && spec.ulimits.fsize === undefined) {
    ulimits.push({ Name: "fsize", Soft: spec.disk, Hard: spec.disk });
  }
  return ulimits;
}
