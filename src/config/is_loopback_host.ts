/**
 * Tells whether a host name or address only reaches this machine:
 * `localhost`, `127.0.0.0/8`, `::1` (also written in full, in brackets, or as
 * `::ffff:127.x.y.z`).
 *
 * @example
 * ```ts
 * isLoopbackHost("127.0.0.1"); // true
 * isLoopbackHost("0.0.0.0"); // false
 * ```
 */
export function isLoopbackHost(host: string): boolean {
  const name = host.trim().toLowerCase().replace(/^\[(.*)\]$/, "$1").replace(/\.$/, "");
  if (name === "localhost") return true;
  if (isLoopbackIpv4(name)) return true;
  const groups = expandIpv6(name);
  if (groups === undefined) return false;
  if (groups.slice(0, 7).every((g) => g === 0) && groups[7] === 1) return true;
  // IPv4-mapped: ::ffff:a.b.c.d
  if (groups.slice(0, 5).every((g) => g === 0) && groups[5] === 0xffff) {
    return groups[6]! >> 8 === 127;
  }
  return false;
}

function isLoopbackIpv4(text: string): boolean {
  const parts = text.split(".");
  return parts.length === 4 && parts.every((p) => /^\d{1,3}$/.test(p) && Number(p) <= 255) &&
    parts[0] === "127";
}

/** The eight 16-bit groups of an IPv6 address, or `undefined` if it is not one. */
function expandIpv6(text: string): number[] | undefined {
  let address = text.replace(/%.*$/, "");
  const ipv4 = /^(.*:)(\d+\.\d+\.\d+\.\d+)$/.exec(address);
  if (ipv4 !== null) {
    const octets = ipv4[2]!.split(".").map(Number);
    if (octets.some((o) => o > 255)) return undefined;
    address = `${ipv4[1]}${((octets[0]! << 8) | octets[1]!).toString(16)}:${
      ((octets[2]! << 8) | octets[3]!).toString(16)
    }`;
  }
  const halves = address.split("::");
  if (halves.length > 2) return undefined;
  const parse = (part: string) => part === "" ? [] : part.split(":");
  const head = parse(halves[0]!);
  const tail = halves.length === 2 ? parse(halves[1]!) : [];
  const missing = 8 - head.length - tail.length;
  if (halves.length === 2 ? missing < 1 : missing !== 0) return undefined;
  const groups = [...head, ...Array<string>(halves.length === 2 ? missing : 0).fill("0"), ...tail];
  if (!groups.every((g) => /^[0-9a-f]{1,4}$/.test(g))) return undefined;
  return groups.map((g) => parseInt(g, 16));
}
