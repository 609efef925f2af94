// @ts-types="@types/ssh2"
import type { AuthContext, Connection } from "ssh2";
import {
  type Authenticator,
  fingerprintSha256,
  type Identity,
  type SecondFactor,
} from "../auth/mod.ts";
import { describeError } from "../errors/mod.ts";
import type { LogFields, Logger } from "../log/mod.ts";
import { type AuthDecision, authenticate, type OutsideLogin } from "./authenticate.ts";
import type { ConnectionObserver } from "./connection_observer.ts";
import { askSecondFactor, type Prompter } from "./_second_factor.ts";

/** What a connection's login needs. */
export interface LoginDeps {
  authenticator: Authenticator;
  logger: Logger;
  connectionId: string;
  /** The client's IP address. */
  address: string;
  maxAuthTries: number;
  observer?: ConnectionObserver | undefined;
  /** A credential was refused (the per-source penalty for failed logins applies). */
  onFailure(): void;
  /** Too many refused credentials: end the connection. */
  onTooManyFailures(failures: number): void;
  /**
   * Runs once a login is accepted, before the client is told (the config
   * webhook); `false` when the client left meanwhile, and nothing is answered.
   */
  beforeAccept?(identity: Identity): Promise<boolean>;
  /**
   * The auth webhook for credentials the config does not know, with the
   * login's username filled in per request.
   */
  outside?(username: string): OutsideLogin | undefined;
  /**
   * The user whose unix socket the connection came in on: the one login it
   * takes, with the `none` method (the socket's permissions decided); every
   * other request is refused. Never set for TCP connections.
   */
  socketUser?: string | undefined;
}

/** The second step, after a first factor got partial success. */
const SECOND_STEP = ["keyboard-interactive"] as const;

/**
 * Answers a connection's authentication requests: the first factor
 * ({@linkcode authenticate}), then, for a user with second factors (TOTP),
 * partial success and one keyboard-interactive round per factor, as OpenSSH
 * does with `AuthenticationMethods publickey,keyboard-interactive`. Refused
 * credentials (wrong codes included) count toward `maxAuthTries`.
 *
 * @returns the identity, once a request was accepted with one
 */
export function handleLogin(client: Connection, deps: LoginDeps): () => Identity | undefined {
  const { logger } = deps;
  let identity: Identity | undefined;
  let failures = 0;
  /** A first factor passed: who, the steps passed and the steps still to pass. */
  let partial: { identity: Identity; passed: string[]; left: SecondFactor[] } | undefined;

  const observe = (
    ctx: AuthContext,
    result: boolean | "partial",
    found?: Identity,
    secondFactor?: string,
  ) => {
    deps.observer?.authAttempt({
      connection: deps.connectionId,
      user: ctx.username.slice(0, 64),
      method: ctx.method,
      accepted: result === true,
      ...(result === "partial" ? { partial: true } : {}),
      query: ctx.method === "publickey" && !ctx.signature,
      ...(ctx.method === "publickey"
        ? {
          fingerprint: found?.keyFingerprint || fingerprintSha256(new Uint8Array(ctx.key.data)),
        }
        : {}),
      ...(found?.certificate
        ? { certificate: { keyId: found.certificate.keyId, serial: found.certificate.serial } }
        : {}),
      ...(secondFactor ? { secondFactor } : {}),
    });
  };

  const refuse = (ctx: AuthContext, counts: boolean, methods: string[]) => {
    if (counts) deps.onFailure();
    ctx.reject(methods as Parameters<AuthContext["reject"]>[0], false);
    if (counts && ++failures >= deps.maxAuthTries) deps.onTooManyFailures(failures);
  };

  /** `next` is owed a second step: partial success, and the client is to ask for it. */
  const askNext = (ctx: AuthContext, next: SecondFactor, fields: LogFields) => {
    logger.info("auth.partial", { ...fields, next: next.name });
    ctx.reject([...SECOND_STEP], true);
  };

  const accept = async (ctx: AuthContext, who: Identity) => {
    logger.info("auth.accepted", acceptedFields(who));
    if (deps.beforeAccept && !(await deps.beforeAccept(who))) return;
    // Set before accept(): ssh2 emits "ready" from inside accept().
    identity = who;
    ctx.accept();
  };

  /** A request after partial success: only keyboard-interactive goes on. */
  const secondStep = async (ctx: AuthContext, login: NonNullable<typeof partial>) => {
    const user = login.identity.username;
    if (ctx.method !== "keyboard-interactive") {
      const counts = ctx.method !== "none" && !(ctx.method === "publickey" && !ctx.signature);
      logger.info("auth.rejected", { user, method: ctx.method, reason: "second factor expected" });
      observe(ctx, false);
      refuse(ctx, counts, [...SECOND_STEP]);
      return;
    }
    const factor = login.left[0]!;
    let result: Awaited<ReturnType<typeof askSecondFactor>>;
    try {
      result = await askSecondFactor(ctx as unknown as Prompter, factor, login.identity);
    } catch (error) {
      // A factor that fails (an outside service down, say) refuses; it never lets in.
      logger.error("auth.error", {
        user,
        method: ctx.method,
        second_factor: factor.name,
        error: describeError(error),
      });
      result = { ok: false, reason: "second factor failed", aborted: false };
    }
    if (!result.ok && result.aborted) return; // ssh2 answers the request that replaced it
    const last = login.left.length === 1;
    observe(ctx, result.ok ? (last ? true : "partial") : false, undefined, factor.name);
    if (!result.ok) {
      logger.info("auth.rejected", {
        user,
        method: ctx.method,
        second_factor: factor.name,
        reason: result.reason,
      });
      refuse(ctx, true, [...SECOND_STEP]);
      return;
    }
    login.passed.push(factor.name);
    login.left.shift();
    const next = login.left[0];
    if (next) {
      askNext(ctx, next, { user, method: ctx.method, second_factor: factor.name });
      return;
    }
    partial = undefined;
    await accept(ctx, { ...login.identity, secondFactors: login.passed });
  };

  client.on("authentication", async (ctx) => {
    if (deps.socketUser !== undefined) {
      const mine = ctx.method === "none" && ctx.username === deps.socketUser;
      if (!mine) {
        logger.info("auth.rejected", {
          user: ctx.username.slice(0, 64),
          method: ctx.method,
          reason: "not the user of this socket",
        });
        observe(ctx, false);
        refuse(ctx, ctx.method !== "none", []);
        return;
      }
      const who: Identity = { username: deps.socketUser, method: "socket" };
      observe(ctx, true, who);
      await accept(ctx, who);
      return;
    }
    if (partial) {
      await secondStep(ctx, partial);
      return;
    }
    const decision: AuthDecision = await authenticate(
      ctx,
      deps.authenticator,
      logger,
      deps.address,
      deps.outside?.(ctx.username.slice(0, 64)),
    );
    const found = decision.accept ? decision.identity : undefined;
    const factors = found ? deps.authenticator.secondFactorsFor(found) : [];
    observe(ctx, factors.length > 0 ? "partial" : decision.accept, found);
    if (found && factors.length > 0) {
      partial = { identity: found, passed: [], left: factors };
      askNext(ctx, factors[0]!, acceptedFields(found));
      return;
    }
    if (decision.accept) {
      if (found) await accept(ctx, found);
      else ctx.accept(); // a key query: "this key would do"
      return;
    }
    refuse(ctx, decision.counts, deps.authenticator.methods());
  });

  return () => identity;
}

/** The fields of `auth.accepted` (and of `auth.partial`, for the first factor). */
function acceptedFields(identity: Identity): LogFields {
  return {
    user: identity.username,
    method: identity.method,
    ...(identity.keyFingerprint ? { fingerprint: identity.keyFingerprint } : {}),
    ...(identity.certificate
      ? {
        certificate_id: identity.certificate.keyId.slice(0, 255),
        certificate_serial: identity.certificate.serial,
        certificate_principals: identity.certificate.principals.slice(0, 32),
        certificate_ca: identity.certificate.ca,
      }
      : {}),
    ...(identity.secondFactors ? { second_factors: identity.secondFactors } : {}),
  };
}
