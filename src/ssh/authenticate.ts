// @ts-types="@types/ssh2"
import ssh2 from "ssh2";
import { Buffer } from "node:buffer";
// @ts-types="@types/ssh2"
import type { AuthContext } from "ssh2";
import {
  type Authenticator,
  fingerprintSha256,
  type Identity,
  isCertificateAlgo,
} from "../auth/mod.ts";
import { describeError } from "../errors/mod.ts";
import type { Logger } from "../log/mod.ts";
import type { AuthLogin, AuthVerdict, AuthWebhook } from "../webhook/mod.ts";

/** Logins the config does not know, decided by the auth webhook. */
export interface OutsideLogin {
  webhook: AuthWebhook;
  login: AuthLogin;
  /** Aborts at the login deadline, or when the client leaves. */
  signal: AbortSignal;
  /** Whether `profiles` has a profile of this name (an answer may name one). */
  knowsProfile(name: string): boolean;
}

/** User names capsule accepts: what `useradd` accepts, at most 32 characters. */
const USER_NAME = /^[a-z_][a-z0-9_.-]{0,31}$/i;

/** What to answer one authentication request. */
export type AuthDecision =
  /** `identity` is absent when only a key query was answered. */
  | { accept: true; identity: Identity | undefined }
  /** `counts`: whether the attempt counts against the attempt limit. */
  | { accept: false; counts: boolean };

/**
 * Decides one ssh2 authentication request. An identity comes only from a
 * credential that was actually verified: a password that matched, or a
 * public key whose signature ssh2 delivered and `verify(...) === true`
 * confirmed; for an OpenSSH user certificate, the certificate checked
 * against the trusted CAs first, then the signature with its key. A key
 * offered without a signature (the "would you accept this key?" query) may
 * be accepted but never yields an identity.
 *
 * A credential the config does not know goes to the auth webhook, when
 * there is one (`outside`): a password as typed, a key only once its
 * signature checked out (a key query is answered "yes" so that the client
 * signs).
 *
 * @param address the client's IP address (a certificate's `source-address`)
 */
export async function authenticate(
  ctx: AuthContext,
  authenticator: Authenticator,
  logger: Logger,
  address: string,
  outside?: OutsideLogin,
): Promise<AuthDecision> {
  const user = ctx.username.slice(0, 64);
  const refuse = (reason: string, counts = true): AuthDecision => {
    logger.info("auth.rejected", { user, method: ctx.method, reason });
    return { accept: false, counts };
  };
  if (!USER_NAME.test(ctx.username)) return refuse("invalid user name");
  try {
    switch (ctx.method) {
      case "password": {
        const identity = await authenticator.checkPassword(ctx.username, ctx.password);
        if (identity) return { accept: true, identity };
        if (!outside) return refuse("wrong user or password");
        const verdict = await outside.webhook.password(outside.login, ctx.password, outside.signal);
        return outsideDecision(
          verdict,
          { username: ctx.username, method: "password" },
          outside,
          refuse,
        );
      }
      case "publickey": {
        if (isCertificateAlgo(ctx.key.algo)) {
          return await certificateLogin(ctx, authenticator, address, refuse, outside);
        }
        const offer = { algo: ctx.key.algo, data: new Uint8Array(ctx.key.data) };
        if (!ctx.signature || !ctx.blob) {
          // The query: acceptable or not, but nothing is authenticated here.
          // With the auth webhook, any key may be worth a signature: it decides after.
          return outside || await authenticator.acceptsKey(ctx.username, offer)
            ? { accept: true, identity: undefined }
            : refuse("key not authorized", false);
        }
        if (ctx.key.algo === "ssh-rsa" && ctx.hashAlgo !== "sha256" && ctx.hashAlgo !== "sha512") {
          return refuse("RSA signature with SHA-1");
        }
        const key = ssh2.utils.parseKey(ctx.key.data);
        if (key instanceof Error) return refuse("unparsable key");
        if (key.verify(ctx.blob, ctx.signature, ctx.hashAlgo) !== true) {
          return refuse("bad signature");
        }
        const identity = await authenticator.identityForVerifiedKey(ctx.username, offer);
        if (identity) return { accept: true, identity };
        if (!outside) return refuse("key not authorized");
        const fingerprint = fingerprintSha256(offer.data);
        const verdict = await outside.webhook.publicKey(
          outside.login,
          authorizedKeyLine(offer.data),
          fingerprint,
          outside.signal,
        );
        return outsideDecision(
          verdict,
          { username: ctx.username, method: "publickey", keyFingerprint: fingerprint },
          outside,
          refuse,
        );
      }
      case "none":
        return refuse("method none", false);
      default:
        return refuse("method not enabled");
    }
  } catch (error) {
    logger.error("auth.error", { user, method: ctx.method, error: describeError(error) });
    return { accept: false, counts: true };
  }
}

/** RSA certificates are signed in with these names; the certificate itself says `ssh-rsa-cert`. */
const RSA_CERT = /^rsa-sha2-(256|512)-cert-v01@openssh\.com$/;

/** Hash of each signature algorithm a certificate's key may sign the login with. */
const SIGNATURE_HASH: Readonly<Record<string, string | undefined>> = {
  "ssh-ed25519": undefined,
  "rsa-sha2-256": "sha256",
  "rsa-sha2-512": "sha512",
  "ecdsa-sha2-nistp256": "sha256",
  "ecdsa-sha2-nistp384": "sha384",
  "ecdsa-sha2-nistp521": "sha512",
};

/**
 * The login signature of a certificate key, as ssh2's key verify wants it.
 * ssh2 1.17.0 unwraps the SSH signature (`string algo, string sig`) only
 * when its algorithm is the offered key's, which for a certificate
 * (`...-cert-v01@openssh.com` offered, `ssh-ed25519` signed) it never is:
 * unwrapped here, ECDSA's `(r, s)` turned into DER as for plain keys.
 */
function certificateSignature(
  signature: Uint8Array,
): { algo: string; raw: Uint8Array } | undefined {
  const [algo, sig, ...rest] = sshStrings(signature) ?? [];
  if (!algo || !sig || rest.length > 0) return undefined;
  const name = new TextDecoder().decode(algo);
  if (!name.startsWith("ecdsa-")) return { algo: name, raw: sig };
  // (mpint r, mpint s) → SEQUENCE { INTEGER r, INTEGER s }
  const [r, s, ...more] = sshStrings(sig) ?? [];
  if (!r?.length || !s?.length || more.length > 0) return undefined;
  const integer = (value: Uint8Array) => {
    let v = value;
    while (v.length > 1 && v[0] === 0 && (v[1]! & 0x80) === 0) v = v.subarray(1);
    if ((v[0]! & 0x80) !== 0) v = Uint8Array.of(0, ...v);
    return derItem(0x02, v);
  };
  return { algo: name, raw: derItem(0x30, concat(integer(r), integer(s))) };
}

/** The SSH strings (uint32 length, bytes) that `bytes` is made of exactly, or `undefined`. */
function sshStrings(bytes: Uint8Array): Uint8Array[] | undefined {
  const strings: Uint8Array[] = [];
  let at = 0;
  while (at < bytes.length) {
    if (at + 4 > bytes.length) return undefined;
    const length = new DataView(bytes.buffer, bytes.byteOffset + at, 4).getUint32(0);
    if (at + 4 + length > bytes.length) return undefined;
    strings.push(bytes.subarray(at + 4, at + 4 + length));
    at += 4 + length;
  }
  return strings;
}

function concat(a: Uint8Array, b: Uint8Array): Uint8Array {
  const out = new Uint8Array(a.length + b.length);
  out.set(a);
  out.set(b, a.length);
  return out;
}

/** A DER item: tag, length (short or long form), value. */
function derItem(tag: number, value: Uint8Array): Uint8Array {
  const n = value.length;
  const length = n < 0x80 ? [n] : n < 0x100 ? [0x81, n] : [0x82, n >> 8, n & 0xff];
  return concat(Uint8Array.of(tag, ...length), value);
}

/** A `publickey` request with an OpenSSH user certificate. */
async function certificateLogin(
  ctx: Extract<AuthContext, { method: "publickey" }>,
  authenticator: Authenticator,
  address: string,
  refuse: (reason: string, counts?: boolean) => AuthDecision,
  outside?: OutsideLogin,
): Promise<AuthDecision> {
  const algo = RSA_CERT.test(ctx.key.algo) ? "ssh-rsa-cert-v01@openssh.com" : ctx.key.algo;
  const check = await authenticator.checkCertificate(
    ctx.username,
    algo,
    new Uint8Array(ctx.key.data),
    address,
  );
  const signed = Boolean(ctx.signature && ctx.blob);
  if (!check.ok) return refuse(check.reason, signed);
  if (!signed) return { accept: true, identity: undefined };
  const signature = certificateSignature(new Uint8Array(ctx.signature!));
  if (!signature || !(signature.algo in SIGNATURE_HASH)) {
    return refuse(signature?.algo === "ssh-rsa" ? "RSA signature with SHA-1" : "bad signature");
  }
  const key = ssh2.utils.parseKey(Buffer.from(check.key));
  if (key instanceof Error) return refuse("unparsable certificate key");
  const verified = key.verify(
    ctx.blob!,
    Buffer.from(signature.raw),
    SIGNATURE_HASH[signature.algo],
  );
  if (verified !== true) return refuse("bad signature");
  const identity: Identity = {
    username: ctx.username,
    method: "publickey",
    keyFingerprint: fingerprintSha256(check.key),
    certificate: check.grant,
  };
  if (check.trustedBy === "config") return { accept: true, identity };
  // Signed by a CA the config does not trust: the auth webhook decides.
  if (!outside) return refuse("certificate signed by an untrusted CA");
  const { keyId, serial, principals, ca } = check.grant;
  const verdict = await outside.webhook.publicKey(
    outside.login,
    `${algo} ${Buffer.from(ctx.key.data).toString("base64")}`,
    identity.keyFingerprint!,
    outside.signal,
    { keyId, serial, principals, ca },
  );
  return outsideDecision(verdict, identity, outside, refuse);
}

/** The auth webhook's verdict as a decision: a profile it names must exist; its questions come next. */
function outsideDecision(
  verdict: AuthVerdict,
  identity: Identity,
  outside: OutsideLogin,
  refuse: (reason: string) => AuthDecision,
): AuthDecision {
  if (verdict.result === "deny") return refuse(verdict.reason);
  if (verdict.profile !== undefined && !outside.knowsProfile(verdict.profile)) {
    return refuse(
      `auth webhook: the answer names profile "${verdict.profile}", which "profiles" does not define`,
    );
  }
  return {
    accept: true,
    identity: {
      ...identity,
      ...(verdict.profile !== undefined ? { profile: verdict.profile } : {}),
      ...(verdict.result === "challenge" ? { pendingChallenge: verdict.challenge } : {}),
    },
  };
}

/** A key's authorized_keys line: its type (the blob's first string) and the blob in base64. */
function authorizedKeyLine(blob: Uint8Array): string {
  const length = new DataView(blob.buffer, blob.byteOffset, blob.length).getUint32(0);
  const type = new TextDecoder().decode(blob.subarray(4, 4 + length));
  return `${type} ${Buffer.from(blob).toString("base64")}`;
}
