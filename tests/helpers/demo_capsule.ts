/**
 * The server most end-to-end tests start: the real capsule with a `demo`
 * password user and the per-source penalties off, plus each test's own
 * settings.
 */
import { hashPassword } from "../../src/auth/mod.ts";
import {
  type CapsuleProcess,
  deepMerge,
  startCapsule,
  type StartCapsuleOptions,
} from "./capsule_process.ts";
import type { Login } from "./ssh_client.ts";

/** The password of the `demo` user (and of any user a test gives {@linkcode demoPasswordHash}). */
export const DEMO_PASSWORD = "s3cret";

let hashed: Promise<string> | undefined;

/** The hash of {@linkcode DEMO_PASSWORD}, made once per test file: scrypt is slow on purpose. */
export function demoPasswordHash(): Promise<string> {
  return hashed ??= hashPassword(DEMO_PASSWORD);
}

/** Options of {@linkcode startDemoCapsule}. */
export interface StartDemoCapsuleOptions extends StartCapsuleOptions {
  /**
   * Keeps the per-source penalties of the defaults. They are off otherwise,
   * so that the failed logins of one case cannot lock the next one's address out.
   */
  penalties?: boolean;
}

/** A started demo server and the `demo` user's login. */
export interface DemoCapsule {
  capsule: CapsuleProcess;
  /** `demo` with {@linkcode DEMO_PASSWORD}. */
  login: Login;
}

/**
 * Starts capsule (see {@linkcode startCapsule}) with the `demo` user and the
 * penalties off; `options.config` is merged over that, so a test adds its own
 * users and settings.
 *
 * @example
 * ```ts
 * const { capsule, login } = await startDemoCapsule({
 *   config: { users: { conn: { passwordHash: await demoPasswordHash(), container: { mode: "connection" } } } },
 * });
 * ```
 */
export async function startDemoCapsule(
  options: StartDemoCapsuleOptions = {},
): Promise<DemoCapsule> {
  const { penalties = false, config = {}, ...rest } = options;
  const demo = {
    ...(penalties ? {} : { server: { penalties: { enabled: false } } }),
    users: { demo: { passwordHash: await demoPasswordHash() } },
  };
  const capsule = await startCapsule({ ...rest, config: deepMerge(demo, config) });
  return { capsule, login: { port: capsule.port, user: "demo", password: DEMO_PASSWORD } };
}
