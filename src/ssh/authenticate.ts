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
 * @param address the client's IP address (a certificate's `source-address`)
 */
export async function authenticate(
  ctx: AuthContext,
  authenticator: Authenticator,
  logger: Logger,
  address: string,
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
        return identity ? { accept: true, identity } : refuse("wrong user or password");
      }
      case "publickey": {
        if (isCertificateAlgo(ctx.key.algo)) {
          return await certificateLogin(ctx, authenticator, address, refuse);
        }
        const offer = { algo: ctx.key.algo, data: new Uint8Array(ctx.key.data) };
        if (!ctx.signature || !ctx.blob) {
          // The query: acceptable or not, but nothing is authenticated here.
          return await authenticator.acceptsKey(ctx.username, offer)
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
        return identity ? { accept: true, identity } : refuse("key not authorized");
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

/** A `publickey` request with an OpenSSH user certificate. */
async function certificateLogin(
  ctx: Extract<AuthContext, { method: "publickey" }>,
  authenticator: Authenticator,
  address: string,
  refuse: (reason: string, counts?: boolean) => AuthDecision,
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
  if (
    algo === "ssh-rsa-cert-v01@openssh.com" && ctx.hashAlgo !== "sha256" &&
    ctx.hashAlgo !== "sha512"
  ) {
    return refuse("RSA signature with SHA-1");
  }
  const key = ssh2.utils.parseKey(Buffer.from(check.key));
  if (key instanceof Error) return refuse("unparsable certificate key");
  if (key.verify(ctx.blob!, ctx.signature!, ctx.hashAlgo) !== true) return refuse("bad signature");
  return {
    accept: true,
    identity: {
      username: ctx.username,
      method: "publickey",
      keyFingerprint: fingerprintSha256(check.key),
      certificate: check.grant,
    },
  };
}
