import { Buffer } from "node:buffer";
// @ts-types="@types/sshpk"
import sshpk from "sshpk";
import { fingerprintSha256 } from "./public_key.ts";
import { inSourceAddressList } from "./source_address.ts";

/** What a verified OpenSSH user certificate grants, for the identity and the log. */
export interface CertificateGrant {
  /** The certificate's key id (`ssh-keygen -I`). */
  keyId: string;
  /** Its serial number, in decimal. */
  serial: string;
  principals: string[];
  /** `SHA256:` fingerprint of the CA that signed it. */
  ca: string;
  /** The `force-command` critical option: the only command the certificate may run. */
  forceCommand?: string;
  /** The extensions that grant features; absent ones are denied. */
  permitPty: boolean;
  permitPortForwarding: boolean;
  permitAgentForwarding: boolean;
}

/** What {@linkcode verifyUserCertificate} needs besides the certificate. */
export interface CertificatePolicy {
  /** The trusted CAs' public keys, as SSH wire blobs. */
  trustedCAs: readonly Uint8Array[];
  /**
   * Lets a CA that is not among `trustedCAs` through (its signature still
   * checked, with the key the certificate names), for an outside service to
   * decide on: the result says `trustedBy: "outside"`.
   */
  outsideCAs?: boolean;
  /** Revoked serial numbers, in decimal. */
  revokedSerials: ReadonlySet<string>;
  /** Revoked keys (a certificate's own key or a CA), as `SHA256:` fingerprints. */
  revokedKeys: ReadonlySet<string>;
  /** The login name. */
  user: string;
  /** The client's IP address, for `source-address`. */
  address: string;
  now?: Date;
}

/** A verified certificate: what it grants, and its own public key (to check the login signature with). */
export type CertificateCheck =
  | {
    ok: true;
    grant: CertificateGrant;
    key: Uint8Array;
    /** `config`: signed by a CA of `trustedCAs`; `outside`: by another, for an outside service to judge. */
    trustedBy: "config" | "outside";
  }
  | { ok: false; reason: string };

/** The critical options capsule enforces; a certificate with any other is refused, as OpenSSH does. */
const KNOWN_CRITICAL = new Set(["force-command", "source-address"]);

/** Whether an SSH key algorithm name is an OpenSSH certificate's. */
export function isCertificateAlgo(algo: string): boolean {
  return /-cert-v01@openssh\.com$/.test(algo);
}

/** Reads an SSH string (uint32 length, bytes) from a critical option's data. */
function optionString(data: Uint8Array): string | undefined {
  if (data.length < 4) return undefined;
  const length = new DataView(data.buffer, data.byteOffset, data.length).getUint32(0);
  if (4 + length !== data.length) return undefined;
  return new TextDecoder("utf-8", { fatal: true }).decode(data.subarray(4));
}

/**
 * Verifies an OpenSSH user certificate as sshd does with
 * `TrustedUserCAKeys`: a user (not host) certificate, signed by a trusted
 * CA, with no SHA-1 signature, inside its validity window, whose principal
 * list is not empty and names the login user, with only critical options
 * capsule enforces (`force-command`, `source-address`, and the client's
 * address within the latter), and neither its serial, its key nor its CA
 * revoked. The login signature is checked by the caller with the returned
 * key.
 *
 * sshpk parses the certificate and verifies signatures with a key. Checked
 * here by hand, because sshpk does not or does it otherwise: the CA's
 * signature itself (sshpk 1.18.0's `isSignedByKey` on an OpenSSH
 * certificate only compares the CA key the certificate names, so a forged
 * signature would pass), an empty principal list (sshpk turns it into the
 * wildcard "*"), the SHA-1 signature (sshpk accepts `ssh-rsa`), the critical
 * options and extensions (sshpk only lists them), revocation.
 */
export function verifyUserCertificate(
  algo: string,
  blob: Uint8Array,
  policy: CertificatePolicy,
): CertificateCheck {
  const refuse = (reason: string): CertificateCheck => ({ ok: false, reason });
  let cert: sshpk.Certificate;
  try {
    cert = sshpk.parseCertificate(
      Buffer.from(`${algo} ${Buffer.from(blob).toString("base64")}`),
      "openssh",
    );
  } catch {
    return refuse("unparsable certificate");
  }
  const openssh = (cert.signatures as unknown as { openssh?: OpensshSignature }).openssh;
  if (!openssh) return refuse("not an OpenSSH certificate");
  if (cert.subjects.some((s) => s.type !== "user")) return refuse("not a user certificate");
  const issuer = cert.issuerKey;
  if (!issuer) return refuse("certificate without a CA key");
  const ca = new Uint8Array(issuer.toBuffer("rfc4253"));
  const caFingerprint = fingerprintSha256(ca);
  const trusted = policy.trustedCAs.find((k) =>
    k.length === ca.length && k.every((b, i) => b === ca[i])
  );
  if (!trusted && !policy.outsideCAs) {
    return refuse(`certificate signed by an untrusted CA (${caFingerprint})`);
  }
  if (openssh.signature?.hashAlgorithm === "sha1") return refuse("certificate signed with SHA-1");
  if (!caSignatureHolds(blob, issuer, openssh.signature)) {
    return refuse("bad certificate signature");
  }
  const now = policy.now ?? new Date();
  if (now < cert.validFrom) return refuse("certificate not yet valid");
  if (now >= cert.validUntil) return refuse("certificate expired");
  // sshpk turns an empty principal list into "*"; a literal "*" names nobody either.
  const principals = cert.subjects.map((s) => String(s.uid ?? s.hostname ?? ""));
  if (principals.length === 0 || principals.includes("*")) {
    return refuse("certificate has no principals");
  }
  if (!principals.includes(policy.user)) {
    return refuse(`certificate principals do not include "${policy.user}"`);
  }
  const serial = BigInt(`0x${Buffer.from(cert.serial).toString("hex") || "0"}`).toString();
  const key = new Uint8Array(cert.subjectKey.toBuffer("rfc4253"));
  const keyFingerprint = fingerprintSha256(key);
  if (policy.revokedSerials.has(serial)) return refuse(`certificate serial ${serial} is revoked`);
  if (policy.revokedKeys.has(keyFingerprint)) return refuse(`key ${keyFingerprint} is revoked`);
  if (policy.revokedKeys.has(caFingerprint)) return refuse(`CA ${caFingerprint} is revoked`);
  let forceCommand: string | undefined;
  const extensions = new Set<string>();
  for (const ext of openssh.exts ?? []) {
    if (!ext.critical) {
      extensions.add(ext.name);
      continue;
    }
    if (!KNOWN_CRITICAL.has(ext.name)) return refuse(`unknown critical option "${ext.name}"`);
    const value = optionString(new Uint8Array(ext.data));
    if (value === undefined) return refuse(`malformed critical option "${ext.name}"`);
    if (ext.name === "force-command") forceCommand = value;
    else if (!inSourceAddressList(value, policy.address)) {
      return refuse(`source address ${policy.address} not allowed by the certificate`);
    }
  }
  return {
    ok: true,
    key,
    trustedBy: trusted ? "config" : "outside",
    grant: {
      keyId: openssh.keyId ?? "",
      serial,
      principals,
      ca: caFingerprint,
      ...(forceCommand !== undefined ? { forceCommand } : {}),
      permitPty: extensions.has("permit-pty"),
      permitPortForwarding: extensions.has("permit-port-forwarding"),
      permitAgentForwarding: extensions.has("permit-agent-forwarding"),
    },
  };
}

/** The OpenSSH part of an sshpk certificate's signatures (not in its types). */
interface OpensshSignature {
  keyId?: string;
  exts?: { critical: boolean; name: string; data: Uint8Array }[];
  signature?: sshpk.Signature & { hashAlgorithm?: string };
}

/**
 * Whether the CA's signature over the certificate holds. The signature is
 * the blob's last field (an SSH string); what it signs is everything before
 * that field. Its encoding must be exactly what sshpk parsed, so that the
 * signed part is found without guessing.
 */
function caSignatureHolds(
  blob: Uint8Array,
  issuer: sshpk.Key,
  signature: OpensshSignature["signature"],
): boolean {
  if (!signature?.hashAlgorithm) return false;
  try {
    const encoded = new Uint8Array(signature.toBuffer("ssh"));
    const start = blob.length - encoded.length;
    if (start < 4) return false;
    const tail = blob.subarray(start);
    if (!tail.every((b, i) => b === encoded[i])) return false;
    const verifier = issuer.createVerify(signature.hashAlgorithm as sshpk.AlgorithmHashType);
    verifier.update(Buffer.from(blob.subarray(0, start - 4)));
    return verifier.verify(signature);
  } catch {
    return false;
  }
}
