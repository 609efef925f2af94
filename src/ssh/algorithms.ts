// @ts-types="@types/ssh2"
import type { Algorithms } from "ssh2";

/**
 * The algorithms capsule offers, set explicitly instead of ssh2's defaults:
 * ssh2 advertises `diffie-hellman-group-exchange-sha256` without serving it,
 * Deno cannot do `ecdh-sha2-nistp521` or ssh2's zlib, and SHA-1 has no place
 * in a new server. The client's order decides among these.
 *
 * Why `diffie-hellman-group18-sha512` comes first although no client picks
 * it before curve25519: ssh2 1.17.0 mishandles a client's guessed key
 * exchange packet (`first_kex_packet_follows`, which Dropbear's client
 * sends). It overwrites the client's kex list with the chosen name before
 * comparing, so it always takes the guess for wrong and drops it, and a
 * client whose guess was right waits forever. A guess is right only when
 * both sides list the same kex first (RFC 4253, 7.1); with a first entry that
 * clients do not put first, a guess is truly wrong, the client sends its
 * key exchange again, and ssh2's dropping is what the RFC asks for.
 */
export const ALGORITHMS: Algorithms = {
  kex: [
    "diffie-hellman-group18-sha512",
    "curve25519-sha256",
    "curve25519-sha256@libssh.org",
    "diffie-hellman-group16-sha512",
  ],
  cipher: [
    "aes128-gcm@openssh.com",
    "aes256-gcm@openssh.com",
    "chacha20-poly1305@openssh.com",
    "aes256-ctr",
    "aes128-ctr",
  ],
  // The encrypt-and-MAC SHA-2 pair after the encrypt-then-MAC one, as OpenSSH's own
  // sshd offers: libssh2 before 1.11 (curl's sftp://, PHP, many backup tools) knows
  // no other MAC and does no AEAD cipher. Clients that can pick ETM pick it first.
  hmac: [
    "hmac-sha2-256-etm@openssh.com",
    "hmac-sha2-512-etm@openssh.com",
    "hmac-sha2-256",
    "hmac-sha2-512",
  ],
  compress: ["none"],
};
