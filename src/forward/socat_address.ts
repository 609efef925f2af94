import type { TunnelTarget } from "./tunnel.ts";

/** A host name or an IPv4 address: letters, digits, dots and dashes. */
const HOST = /^[A-Za-z0-9](?:[A-Za-z0-9.-]{0,252})$/;
/** An IPv6 address, as clients send it (no brackets). */
const IPV6 = /^[0-9A-Fa-f:.]{2,45}$/;
/** An absolute socket path made of characters socat's address syntax leaves alone. */
const SOCKET_PATH = /^\/[A-Za-z0-9._/@+-]{1,254}$/;

/**
 * Whether a client's socket path is one capsule passes on: absolute, plain
 * characters, no `..` (for `ssh -L` to a socket and `ssh -R` from one).
 */
export function isPlainSocketPath(path: string): boolean {
  return SOCKET_PATH.test(path) && !path.split("/").includes("..");
}

/**
 * The socat address that connects to `target`, or a reason to refuse it.
 *
 * socat reads `,`, `:`, `!!` and quotes in an address as syntax (options,
 * a second address, ...), so whatever a client sends is checked against
 * strict patterns instead of being escaped: a host is a name or an address,
 * a port a number, a socket path plain characters only.
 */
export function socatAddress(target: TunnelTarget): { address: string } | { refused: string } {
  if (target.kind === "unix") {
    if (!isPlainSocketPath(target.path)) {
      return { refused: "socket path not allowed" };
    }
    return { address: `UNIX-CONNECT:${target.path}` };
  }
  if (!Number.isInteger(target.port) || target.port < 1 || target.port > 65535) {
    return { refused: "port out of range" };
  }
  if (HOST.test(target.host)) return { address: `TCP:${target.host}:${target.port}` };
  if ((target.host.match(/:/g)?.length ?? 0) >= 2 && IPV6.test(target.host)) {
    return { address: `TCP6:[${target.host}]:${target.port}` };
  }
  return { refused: "host not allowed" };
}
