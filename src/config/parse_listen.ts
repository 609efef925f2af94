/**
 * Splits a listen address into host and port. IPv6 hosts are written in
 * brackets; port 0 asks for any free port.
 *
 * @returns the host (without brackets) and the port
 * @throws {TypeError} when `listen` is not `host:port`
 * @throws {RangeError} when the port is above 65535
 *
 * @example
 * ```ts
 * parseListen("[::1]:2222"); // { host: "::1", port: 2222 }
 * ```
 */
export function parseListen(listen: string): { host: string; port: number } {
  const match = /^\[([^\s[\]]*:[^\s[\]]*)\]:(\d{1,5})$/.exec(listen) ??
    /^([^\s:[\]]+):(\d{1,5})$/.exec(listen);
  if (match === null) {
    throw new TypeError(
      `Cannot parse listen address ${
        JSON.stringify(listen)
      }: expected "host:port", like "127.0.0.1:2222" or "[::1]:2222"`,
    );
  }
  const port = Number(match[2]);
  if (port > 65535) {
    throw new RangeError(
      `Cannot parse listen address ${JSON.stringify(listen)}: port ${port} is above 65535`,
    );
  }
  return { host: match[1]!, port };
}
