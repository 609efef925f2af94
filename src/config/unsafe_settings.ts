import { formatPath } from "./config_path.ts";
import type { Config, ContainerConfig } from "./types.ts";

/** A setting that weakens isolation without the `unsafe` flag that allows it. */
export interface UnsafeSetting {
  path: (string | number)[];
  message: string;
}

const ENGINE_SOCKET = /(^|\/)(docker|podman|containerd)\.sock$/;

/** Where engines usually put their sockets. */
const KNOWN_SOCKETS = [
  "/var/run/docker.sock",
  "/run/docker.sock",
  "/run/podman/podman.sock",
  "/run/containerd/containerd.sock",
];

function engineSockets(config: Config): string[] {
  const host = config.docker.host;
  const configured = host.startsWith("unix://")
    ? host.slice("unix://".length)
    : host.startsWith("/")
    ? host
    : undefined;
  return configured ? [...KNOWN_SOCKETS, configured] : KNOWN_SOCKETS;
}

/** Whether mounting `source` exposes an engine socket: the socket itself or a folder above it. */
function exposesSocket(source: string, sockets: readonly string[]): boolean {
  if (ENGINE_SOCKET.test(source)) return true;
  const folder = source.replace(/\/+$/, "") + "/";
  return sockets.some((socket) => socket === source || socket.startsWith(folder));
}

function refused(path: (string | number)[], why: string, flag: keyof Config["unsafe"]): string {
  return `"${formatPath(path)}" is refused: ${why}; set "unsafe.${flag}: true" to allow it`;
}

/**
 * Lists the settings of one container block (global, a profile's, a user's,
 * a webhook's answer, or settings resolved from all of them) that weaken
 * isolation without the `unsafe` flag of `config` that allows each.
 *
 * @param base the block's path, for the messages (`["users", "alice", "container"]`)
 */
export function unsafeContainerSettings(
  container: Partial<ContainerConfig>,
  base: (string | number)[],
  config: Config,
): UnsafeSetting[] {
  const found: UnsafeSetting[] = [];
  if (container.privileged === true && !config.unsafe.privileged) {
    found.push({
      path: [...base, "privileged"],
      message: refused(
        [...base, "privileged"],
        `a privileged container gives the session root on the host`,
        "privileged",
      ),
    });
  }
  const network = container.network;
  const shared = network === "host" || network?.startsWith("container:") === true;
  if (shared && !config.unsafe.hostNamespaces) {
    found.push({
      path: [...base, "network"],
      message: refused(
        [...base, "network"],
        network === "host"
          ? `"host" shares the host's network namespace`
          : `"${network}" joins another container's network namespace`,
        "hostNamespaces",
      ),
    });
  }
  const sockets = engineSockets(config);
  (container.mounts ?? []).forEach((mount, index) => {
    if (exposesSocket(mount.source, sockets) && !config.unsafe.engineSocket) {
      found.push({
        path: [...base, "mounts", index, "source"],
        message: refused(
          [...base, "mounts", index, "source"],
          `"${mount.source}" is or holds the container engine's socket, which gives the session root on the host`,
          "engineSocket",
        ),
      });
    }
  });
  return found;
}

/**
 * Lists settings, global, per profile or per user, that weaken isolation
 * (privileged containers, host namespaces, the engine's socket) without the
 * `unsafe` flag that allows each.
 */
export function unsafeSettings(config: Config): UnsafeSetting[] {
  const found = unsafeContainerSettings(config.container, ["container"], config);
  for (const [name, profile] of Object.entries(config.profiles)) {
    found.push(...unsafeContainerSettings(profile, ["profiles", name], config));
  }
  for (const [name, user] of Object.entries(config.users)) {
    found.push(...unsafeContainerSettings(user.container, ["users", name, "container"], config));
  }
  return found;
}
