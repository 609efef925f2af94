// @ts-types="@types/ssh2"
import type { Algorithms } from "ssh2";

/**
 * The algorithms capsule offers, set explicitly instead of ssh2's defaults:
 * ssh2 advertises `diffie-hellman-group-exchange-sha256` without serving it,
 * Deno cannot do `ecdh-sha2-nistp521` or ssh2's zlib, and SHA-1 has no place
 * in a new server. The client's order decides among these.
 */
export const ALGORITHMS: Algorithms = {
  kex: [
    "curve25519-sha256",
    "curve25519-sha256@libssh.org",
    "diffie-hellman-group16-sha512",
    "diffie-hellman-group18-sha512",
  ],
  cipher: [
    "aes128-gcm@openssh.com",
    "aes256-gcm@openssh.com",
    "chacha20-poly1305@openssh.com",
    "aes256-ctr",
    "aes128-ctr",
  ],
  hmac: ["hmac-sha2-256-etm@openssh.com", "hmac-sha2-512-etm@openssh.com"],
  compress: ["none"],
};
