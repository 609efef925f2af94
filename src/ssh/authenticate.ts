// @ts-types="@types/ssh2"
import ssh2 from "ssh2";
// @ts-types="@types/ssh2"
import type { AuthContext } from "ssh2";
import type { Authenticator, Identity } from "../auth/mod.ts";
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
 * confirmed. A key offered without a signature (the "would you accept this
 * key?" query) may be accepted but never yields an identity.
 */
export async function authenticate(
  ctx: AuthContext,
  authenticator: Authenticator,
  logger: Logger,
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
