import net from "node:net";

/**
 * Whether `address` (the client's IP, IPv4-mapped IPv6 included) is in an
 * OpenSSH `source-address` list: comma-separated addresses and CIDR blocks,
 * IPv4 or IPv6. A malformed list matches nothing (fail closed).
 */
export function inSourceAddressList(list: string, address: string): boolean {
  const ip = address.replace(/^::ffff:(\d+\.\d+\.\d+\.\d+)$/i, "$1");
  const family = net.isIPv4(ip) ? "ipv4" : net.isIPv6(ip) ? "ipv6" : undefined;
  if (!family) return false;
  const blocks = new net.BlockList();
  for (const entry of list.split(",")) {
    const [base = "", bits] = entry.trim().split("/");
    const baseFamily = net.isIPv4(base) ? "ipv4" : net.isIPv6(base) ? "ipv6" : undefined;
    if (!baseFamily) return false;
    const max = baseFamily === "ipv4" ? 32 : 128;
    const prefix = bits === undefined ? max : Number(bits);
    if (
      !Number.isInteger(prefix) || prefix < 0 || prefix > max ||
      (bits !== undefined && !/^\d+$/.test(bits))
    ) {
      return false;
    }
    blocks.addSubnet(base, prefix, baseFamily);
  }
  return blocks.check(ip, family);
}
