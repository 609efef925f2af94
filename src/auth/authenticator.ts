import { randomBytes } from "node:crypto";
import type { Config, UserConfig } from "../config/types.ts";
import { describeError } from "../errors/mod.ts";
import type { EphemeralKeys } from "./ephemeral_keys.ts";
import { type Logger, silentLogger } from "../log/mod.ts";
import type { Identity } from "./identity.ts";
import { hashPassword, verifyPassword } from "./password_hash.ts";
import { fingerprintSha256, keysEqual, parseAuthorizedKeys, type PublicKey } from "./public_key.ts";
import { outsideChallengeFactor, type SecondFactor } from "./second_factor.ts";
import { TotpFactor } from "./totp_factor.ts";
import { type CertificateCheck, verifyUserCertificate } from "./user_certificate.ts";

/** The parts of the configuration an {@linkcode Authenticator} reads. */
export type AuthenticatorConfig = Pick<Config, "users" | "auth">;

/** A key offered by a client: its algorithm name and SSH wire blob. */
export type OfferedKey = Pick<PublicKey, "algo" | "data">;

/** Options of {@linkcode Authenticator}. */
export interface AuthenticatorOptions {
  /** Where key file problems are reported (default: nowhere). */
  logger?: Logger;
  /**
   * Reads an authorized_keys file (default `Deno.readTextFile`). Throwing
   * `Deno.errors.NotFound` means the file does not exist.
   */
  readFile?: (path: string) => Promise<string>;
  /**
   * Logins are also decided outside the config (the auth webhook): both
   * `password` and `publickey` are offered whatever the config's users have.
   */
  outside?: boolean;
  /** Checks a password against a hash (default {@linkcode verifyPassword}); a seam for tests. */
  verifyPassword?: (password: string, hash: string) => Promise<boolean>;
  /**
   * Steps asked after TOTP of the users they are {@linkcode SecondFactor.required}
   * for (an auth webhook's questions, say); default none.
   */
  secondFactors?: readonly SecondFactor[];
  /** Unix milliseconds now, for TOTP; a seam for tests. */
  now?: () => number;
  /**
   * Keys the library's in-process clients registered (`openClient`), each
   * for one user. They count only for a user the config names in `users`,
   * and only while registered; see {@linkcode EphemeralKeys}.
   */
  ephemeralKeys?: EphemeralKeys;
}

/** A login name `auth.anyUserKeysFiles` accepts, as `useradd` would by default. */
const VALID_USERNAME = /^[a-z_][a-z0-9_.-]{0,31}$/i;

// Clients sign with RSA as `rsa-sha2-256`/`-512`; the key itself is `ssh-rsa`.
const KEY_TYPE_OF_ALGO: Readonly<Record<string, string>> = {
  "rsa-sha2-256": "ssh-rsa",
  "rsa-sha2-512": "ssh-rsa",
};

interface KeySource {
  /** Config path or file path, for logs. */
  name: string;
  /** The authorized_keys text, or `null` when it cannot be read. */
  read: () => Promise<string | null>;
}

/**
 * Decides who may log in, from the users and keys in the configuration. It
 * knows nothing of the SSH library: the SSH layer verifies key signatures and
 * asks {@linkcode Authenticator.identityForVerifiedKey} only afterwards.
 *
 * @example
 * ```ts
 * const authenticator = new Authenticator(config, { logger });
 * const identity = await authenticator.checkPassword("alice", "s3cret");
 * ```
 */
export class Authenticator {
  #config: AuthenticatorConfig;
  readonly #logger: Logger;
  readonly #readFile: (path: string) => Promise<string>;
  readonly #verifyPassword: (password: string, hash: string) => Promise<boolean>;
  readonly #outside: boolean;
  #dummyHash: Promise<string> | undefined;
  readonly #secondFactors: readonly SecondFactor[];
  readonly #ephemeralKeys: EphemeralKeys | undefined;

  /**
   * @param config users and the `auth` section
   * @param options logger and test seams
   */
  constructor(config: AuthenticatorConfig, options: AuthenticatorOptions = {}) {
    this.#config = { users: config.users, auth: config.auth };
    this.#logger = options.logger ?? silentLogger();
    this.#readFile = options.readFile ?? ((path) => Deno.readTextFile(path));
    this.#verifyPassword = options.verifyPassword ?? verifyPassword;
    this.#outside = options.outside ?? false;
    this.#ephemeralKeys = options.ephemeralKeys;
    const totp = new TotpFactor({
      userOf: (username) => this.#user(username),
      readFile: (path) => this.#readFile(expandHome(path)),
      logger: this.#logger,
      ...(options.now ? { now: options.now } : {}),
    });
    this.#secondFactors = [totp, outsideChallengeFactor, ...(options.secondFactors ?? [])];
  }

  /** Replaces the users and `auth` settings, e.g. after a config reload. */
  update(config: AuthenticatorConfig): void {
    this.#config = { users: config.users, auth: config.auth };
  }

  /**
   * The steps `identity`, which passed a first factor, must pass too, in
   * order: TOTP for a user with a secret, then any others configured. Empty
   * when the first factor is enough.
   */
  secondFactorsFor(identity: Identity): SecondFactor[] {
    return this.#secondFactors.filter((factor) => factor.required(identity));
  }

  /**
   * The methods a client may try, e.g. to answer the `none` method.
   * `keyboard-interactive` is never among them: it is offered only as the
   * second step, once a first factor succeeded.
   */
  methods(): Array<"password" | "publickey"> {
    if (this.#outside) return ["publickey", "password"];
    const users = Object.values(this.#config.users);
    const methods: Array<"password" | "publickey"> = [];
    const hasKeys = this.#anyUserKeysFiles().length > 0 ||
      (this.#config.auth?.trustedUserCAKeys.length ?? 0) > 0 ||
      users.some((user) => keyLinesOf(user).length > 0 || keyFilesOf(user).length > 0);
    if (hasKeys) methods.push("publickey");
    if (users.some((user) => user.passwordHash !== undefined)) methods.push("password");
    return methods;
  }

  /**
   * Checks a password. An unknown user or one without a password costs the
   * same scrypt work as a real check, so timing does not reveal user names.
   *
   * @returns the identity, or `null` when the user or password is wrong
   */
  async checkPassword(username: string, password: string): Promise<Identity | null> {
    const hash = this.#user(username)?.passwordHash;
    if (hash === undefined) {
      await this.#verifyPassword(password, await this.#dummy());
      return null;
    }
    if (!(await this.#verifyPassword(password, hash))) return null;
    return { username, method: "password" };
  }

  /**
   * Whether `key` would be accepted for `username`. Answers a key query that
   * carries no signature, so it never yields an identity.
   */
  async acceptsKey(username: string, key: OfferedKey): Promise<boolean> {
    return (await this.#findKey(username, key)) !== null;
  }

  /**
   * The identity for a key whose signature the SSH layer has already
   * verified; calling it for an unverified key would authenticate anyone who
   * knows a public key.
   *
   * @returns the identity, or `null` when the key is not authorized for `username`
   */
  async identityForVerifiedKey(username: string, key: OfferedKey): Promise<Identity | null> {
    const found = await this.#findKey(username, key);
    if (found === null) return null;
    return { username, method: "publickey", keyFingerprint: fingerprintSha256(found.data) };
  }

  /**
   * Verifies an OpenSSH user certificate offered for `username` from
   * `address` against `auth.trustedUserCAKeys` and `auth.revokedCertificates`
   * (see {@linkcode verifyUserCertificate}). Any valid user name its
   * principals include may log in, configured or not, as with
   * `anyUserKeysFiles`. With the auth webhook (`outside`), a certificate
   * from another CA passes every other check here and is the webhook's to
   * judge (`trustedBy: "outside"`). The login signature is the SSH layer's
   * to check, with the key this returns.
   */
  async checkCertificate(
    username: string,
    algo: string,
    blob: Uint8Array,
    address: string,
  ): Promise<CertificateCheck> {
    if (!VALID_USERNAME.test(username)) return { ok: false, reason: "invalid user name" };
    const auth = this.#config.auth;
    const trustedCAs = await this.#trustedCAs(auth?.trustedUserCAKeys ?? []);
    if (trustedCAs.length === 0 && !this.#outside) {
      return { ok: false, reason: "no trusted user CA" };
    }
    return verifyUserCertificate(algo, blob, {
      trustedCAs,
      // With the auth webhook, a certificate from another CA is its to judge.
      outsideCAs: this.#outside,
      revokedSerials: new Set(auth?.revokedCertificates.serials ?? []),
      revokedKeys: new Set(auth?.revokedCertificates.keys ?? []),
      user: username,
      address,
    });
  }

  /** The CA keys: inline key lines, and the keys in the files named (read at each login, like authorized_keys). */
  async #trustedCAs(entries: readonly string[]): Promise<Uint8Array[]> {
    const keys: Uint8Array[] = [];
    for (const entry of entries) {
      const inline = /^(ssh-|ecdsa-|sk-)/.test(entry.trim());
      const text = inline ? entry : await this.#fileSource(entry).read();
      if (text === null) continue;
      const parsed = parseAuthorizedKeys(text);
      for (const { line, message } of parsed.warnings) {
        this.#logger.warn("auth.trusted_ca_warning", {
          source: inline ? "auth.trustedUserCAKeys" : entry,
          line,
          message,
        });
      }
      // A CA that is itself a certificate is no CA (OpenSSH refuses it too).
      keys.push(...parsed.keys.filter((k) => !/-cert-v01@/.test(k.algo)).map((k) => k.data));
    }
    return keys;
  }

  #user(username: string): UserConfig | undefined {
    // `hasOwn`, so that names such as "constructor" never reach Object.prototype.
    const users = this.#config.users;
    return Object.hasOwn(users, username) ? users[username] : undefined;
  }

  #anyUserKeysFiles(): readonly string[] {
    return this.#config.auth?.anyUserKeysFiles ?? [];
  }

  #dummy(): Promise<string> {
    this.#dummyHash ??= hashPassword(randomBytes(24).toString("base64")).catch((error) => {
      this.#dummyHash = undefined;
      throw error;
    });
    return this.#dummyHash;
  }

  async #findKey(username: string, offered: OfferedKey): Promise<PublicKey | null> {
    const wanted = { algo: KEY_TYPE_OF_ALGO[offered.algo] ?? offered.algo, data: offered.data };
    // An in-process client's key: only for a user the config has, so that
    // openClient() cannot log in a user that does not exist.
    if (this.#ephemeralKeys !== undefined && this.#user(username) !== undefined) {
      const found = this.#ephemeralKeys.find(username, wanted);
      if (found !== undefined) {
        this.#logger.debug("auth.key_matched", {
          source: "ephemeral",
          fingerprint: fingerprintSha256(found.data),
        });
        return found;
      }
    }
    // Sources are read one by one, like OpenSSH, and only until a key matches.
    for (const source of this.#sourcesFor(username)) {
      const text = await source.read();
      if (text === null) continue;
      const { keys, warnings } = parseAuthorizedKeys(text);
      for (const { line, message } of warnings) {
        this.#logger.warn("auth.authorized_keys_warning", { source: source.name, line, message });
      }
      const found = keys.find((key) => keysEqual(wanted, key));
      if (found !== undefined) {
        this.#logger.debug("auth.key_matched", {
          source: source.name,
          fingerprint: fingerprintSha256(found.data),
        });
        return found;
      }
    }
    return null;
  }

  #sourcesFor(username: string): KeySource[] {
    const sources: KeySource[] = [];
    const user = this.#user(username);
    if (user !== undefined) {
      const lines = keyLinesOf(user);
      if (lines.length > 0) {
        const text = lines.join("\n");
        sources.push({
          name: `users.${username}.authorizedKeys`,
          read: () => Promise.resolve(text),
        });
      }
      for (const path of keyFilesOf(user)) sources.push(this.#fileSource(path));
    }
    if (VALID_USERNAME.test(username)) {
      for (const path of this.#anyUserKeysFiles()) sources.push(this.#fileSource(path));
    }
    return sources;
  }

  #fileSource(configuredPath: string): KeySource {
    const path = expandHome(configuredPath);
    return {
      name: path,
      read: async () => {
        try {
          return await this.#readFile(path);
        } catch (error) {
          if (isNotFound(error)) {
            this.#logger.debug("auth.keys_file_missing", { path });
          } else {
            this.#logger.warn("auth.keys_file_unreadable", { path, error: describeError(error) });
          }
          return null;
        }
      },
    };
  }
}

// The config loader fills these in; hand-built configs in tests and tools may not.
function keyLinesOf(user: UserConfig): readonly string[] {
  return user.authorizedKeys ?? [];
}

function keyFilesOf(user: UserConfig): readonly string[] {
  return user.authorizedKeysFiles ?? [];
}

/** Expands a leading `~` to `$HOME`; the config loader does it too, this is a backstop. */
function expandHome(path: string): string {
  if (path !== "~" && !path.startsWith("~/")) return path;
  try {
    const home = Deno.env.get("HOME");
    return home ? home + path.slice(1) : path;
  } catch {
    return path; // No env permission: leave the path as configured.
  }
}

function isNotFound(error: unknown): boolean {
  return error instanceof Deno.errors.NotFound ||
    (error instanceof Error && (error as { code?: unknown }).code === "ENOENT");
}
