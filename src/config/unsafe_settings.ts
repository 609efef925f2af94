import { formatPath } from "./schema.ts";
import type { Config, ContainerConfig } from "./types.ts";

/** A setting that weakens isolation without the `unsafe` flag that allows it. */
export interface UnsafeSetting {
  path: (string | number)[];
  message: string;
}

const ENGINE_SOCKET = /(^|\/)(docker|podman|containerd)\.sock$/;

function engineSocketOf(config: Config): string | undefined {
  const host = config.docker.host;
  if (host.startsWith("unix://")) return host.slice("unix://".length);
  if (host.startsWith("/")) return host;
  return undefined;
}

function refused(path: (string | number)[], why: string, flag: keyof Config["unsafe"]): string {
  return `"${formatPath(path)}" is refused: ${why}; set "unsafe.${flag}: true" to allow it`;
}

function check(
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
  if (container.network === "host" && !config.unsafe.hostNamespaces) {
    found.push({
      path: [...base, "network"],
      message: refused(
        [...base, "network"],
        `"host" shares the host's network namespace`,
        "hostNamespaces",
      ),
    });
  }
  const socket = engineSocketOf(config);
  (container.mounts ?? []).forEach((mount, index) => {
    const isSocket = ENGINE_SOCKET.test(mount.source) || mount.source === socket;
    if (isSocket && !config.unsafe.engineSocket) {
      found.push({
        path: [...base, "mounts", index, "source"],
        message: refused(
          [...base, "mounts", index, "source"],
          `"${mount.source}" is the container engine's socket, which gives the session root on the host`,
          "engineSocket",
        ),
      });
    }
  });
  return found;
}

/**
 * Lists settings, global or per user, that weaken isolation (privileged
 * containers, host namespaces, the engine's socket) without the `unsafe`
 * flag that allows each.
 */
export function unsafeSettings(config: Config): UnsafeSetting[] {
  const found = check(config.container, ["container"], config);
  for (const [name, user] of Object.entries(config.users)) {
    found.push(...check(user.container, ["users", name, "container"], config));
  }
  return found;
}
