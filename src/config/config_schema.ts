import { z } from "zod";
import type { LogFormat, LogLevel } from "../log/mod.ts";
import { ContainerConfig } from "./container_schema.ts";
import { DockerConfig } from "./docker_schema.ts";
import { hostPath } from "./host_path_schema.ts";
import { LimitsConfig, UserLimitsConfig } from "./limits_schema.ts";
import { overrides } from "./object_schema.ts";
import { type ObjectSchema, schemaOf } from "./schema.ts";
import { PROFILE_NAME, PROFILE_NAME_EXPECTED, profileName } from "./profile_name_schema.ts";
import { secret } from "./secret_schema.ts";
import { ServerConfig } from "./server_schema.ts";
import { AuthWebhookConfig, WebhookConfig } from "./webhook_schema.ts";
import { base32Decode } from "../auth/base32.ts";
import {
  boolean,
  integer,
  list,
  matching,
  nonEmptyString,
  object,
  oneOf,
  record,
  string,
} from "./value_schemas.ts";

/** Settings that weaken isolation; each must be named to be allowed. */
export const UnsafeConfig = object({
  privileged: boolean().describe("Allow `container.privileged: true`.").default(false),
  hostNamespaces: boolean()
    .describe("Allow the host's namespaces (`container.network: host`).")
    .default(false),
  engineSocket: boolean()
    .describe("Allow bind-mounting the container engine's socket.")
    .default(false),
});
/** Settings that weaken isolation; each must be named to be allowed. */
export type UnsafeConfig = z.output<typeof UnsafeConfig>;

const TOTP_SECRET =
  `a base32 TOTP secret of at least 26 characters (128 bits), like "capsule totp-secret" makes`;

/** A TOTP secret: base32 (RFC 4648) of at least 128 bits, RFC 4226's minimum. */
const totpSecret = secret(
  matching(/^[A-Za-z2-7]{26,}=*$/, TOTP_SECRET)
    .refine((text) => base32Decode(text) !== null, { error: TOTP_SECRET }),
);

/**
 * A user allowed to log in; `passwordHash`, the key lists and `auth`'s CAs
 * say how, `totpSecret` or `totpSecretFile` add a second factor.
 */
export const UserConfig = object({
  // A pattern, not .startsWith(): zod writes that as a format no JSON Schema validator knows.
  passwordHash: matching(
    /^\$scrypt\$/,
    `a hash made by "capsule hash-password" (starting with "$scrypt$")`,
  )
    .describe("Salted scrypt hash made by `capsule hash-password`; leave out for key-only users.")
    .exactOptional(),
  authorizedKeys: list(nonEmptyString())
    .describe("Public keys in authorized_keys line format.")
    .default([]),
  authorizedKeysFiles: list(hostPath())
    .describe("Paths of authorized_keys files (`~` is expanded).")
    .default([]),
  profile: profileName()
    .describe(
      "The container profile (a key of `profiles`) this user's settings start from, over the global ones.",
    )
    .exactOptional(),
  totpSecret: totpSecret
    .describe(
      "Base32 TOTP secret (`capsule totp-secret`): after a password, key or certificate, the user is also asked a code (RFC 6238: SHA-1, 30 s, 6 digits). Never logged.",
    )
    .exactOptional(),
  totpSecretFile: hostPath()
    .describe(
      "A file holding the base32 TOTP secret instead of `totpSecret` (read at each login; `~` is expanded). An unreadable file refuses the user's logins.",
    )
    .exactOptional(),
  container: overrides(ContainerConfig)
    .describe("Overrides of the global (and profile) container settings for this user.")
    .default({}),
  limits: UserLimitsConfig
    .describe(
      "Overrides of `limits.sessionsPerUser` and `limits.connectionsPerUser` for this user.",
    )
    .exactOptional(),
}).refine((user) => user.totpSecret === undefined || user.totpSecretFile === undefined, {
  error: `left out when "totpSecret" is set (one secret per user)`,
  path: ["totpSecretFile"],
});
/** A user allowed to log in. */
export type UserConfig = z.output<typeof UserConfig>;

/**
 * The whole configuration. Every option has a default, so a file sets only
 * what it changes; the layers (defaults, file, environment, flags) are merged
 * before this validates the result once.
 */
export const Config = object({
  server: ServerConfig
    .describe("Listening, host keys, limits around authentication.")
    .prefault({}),
  log: object({
    level: oneOf(["debug", "info", "warn", "error"] as const satisfies readonly LogLevel[])
      .describe("Lowest level written.")
      .default("info"),
    format: oneOf(["auto", "json", "text"] as const satisfies readonly LogFormat[])
      .describe("`auto`: text on a terminal, JSON lines otherwise.")
      .default("auto"),
  }).describe("Logging.").prefault({}),
  auth: object({
    anyUserKeysFiles: list(hostPath())
      .describe("Accept public keys from these files for any user name; empty to disable.")
      .default([]),
    trustedUserCAKeys: list(nonEmptyString())
      .describe(
        "SSH CAs whose user certificates log in as their principals: public key lines (`ssh-ed25519 AAAA...`) or files of them (`~` is expanded).",
      )
      .default([]),
    revokedCertificates: object({
      serials: list(matching(/^\d{1,20}$/, 'a certificate serial number, like "42"'))
        .describe("Serial numbers of revoked certificates (`ssh-keygen -z`).")
        .default([]),
      keys: list(
        matching(
          /^SHA256:[A-Za-z0-9+/]{43}$/,
          `a key fingerprint, like "SHA256:..." (ssh-keygen -lf)`,
        ),
      )
        .describe("Fingerprints of revoked keys: a certificate's own key, or a CA's.")
        .default([]),
    }).describe("Certificates and keys no longer accepted.").prefault({}),
    principalProfiles: record(profileName(), {
      pattern: /^\S{1,255}$/,
      expected: "a certificate principal without spaces",
    })
      .describe(
        "Container profiles by certificate principal: a certificate login with one of these principals gets that profile (the first of its principals listed here, in the certificate's order), unless the user's entry or the config webhook names one.",
      )
      .default({}),
  }).describe("Authentication for all users.").prefault({}),
  session: object({
    envAllow: list(
      matching(
        /^[A-Za-z_][A-Za-z0-9_]*\*?$/,
        `a variable name, with "*" allowed at the end, like "LANG" or "LC_*"`,
      ),
    )
      .describe("Names (`*` at the end allowed) of client `env` variables passed to the container.")
      .default(["LANG", "LC_*"]),
  }).describe("Sessions.").prefault({}),
  audit: object({
    file: string()
      .describe(
        "JSON-lines audit file (mode 0600, appended, reopened on SIGHUP); relative to the working directory; empty for none.",
      )
      .default(""),
    sftpEventsPerSession: integer({ min: 0 })
      .describe(
        "Most `sftp.*` events recorded per SFTP session; past it one `sftp.capped` event, the rest are counted in `session.end`; 0 for no cap.",
      )
      .default(10_000),
  }).describe("The audit log: who did what, one JSON object per line.").prefault({}),
  recording: object({
    dir: string()
      .describe(
        "Directory for asciicast v2 recordings of TTY sessions (files mode 0600); relative to the working directory; empty for none.",
      )
      .default(""),
    input: boolean()
      .describe("Record what the user types too (passwords typed at prompts included).")
      .default(false),
  }).describe("Recordings of TTY sessions (asciicast v2).").prefault({}),
  docker: DockerConfig.describe("The container engine and the registries it pulls from.")
    .prefault({}),
  container: ContainerConfig.describe("Global container settings.").prefault({}),
  profiles: record(overrides(ContainerConfig), {
    pattern: PROFILE_NAME,
    expected: PROFILE_NAME_EXPECTED,
  })
    .describe(
      "Named container profiles: overrides of the global container settings that a user entry, a certificate principal or the config webhook names.",
    )
    .default({}),
  webhooks: object({
    auth: AuthWebhookConfig
      .describe(
        "Logins from outside: when a password or a verified public key is not one of the config's, capsule asks this endpoint; it may allow, deny, ask further questions (keyboard-interactive) and name a profile. Fails closed.",
      )
      .prefault({}),
    config: WebhookConfig
      .describe(
        "Per-connection container settings: after each login capsule POSTs who logged in, and the answer (capsule's or ContainerSSH's shape) picks a profile and overrides settings. Fails closed.",
      )
      .prefault({}),
  }).describe("HTTP endpoints capsule calls.").prefault({}),
  limits: LimitsConfig.describe("Caps on what users hold at once; 0 for no cap.").prefault({}),
  unsafe: UnsafeConfig.describe("Explicit permission for settings that weaken isolation.")
    .prefault({}),
  users: record(UserConfig, {
    pattern: /^[A-Za-z_][A-Za-z0-9_.-]{0,31}$/,
    expected: `a user name (a letter or "_", then letters, digits, "_", "." or "-"; at most 32)`,
  }).describe("Users by name.").default({}),
}).meta({
  title: "capsule configuration",
  description: "An SSH server that gives every session a fresh container.",
});
/** The whole configuration after layering and validation. */
export type Config = z.output<typeof Config>;

/** Capsule's schema of the whole configuration. */
export const configSchema: ObjectSchema<Config> = schemaOf(Config);

/** Capsule's schema of the global `container` settings (every key has its default). */
export const containerSchema: ObjectSchema<ContainerConfig> = schemaOf(ContainerConfig);

/** Capsule's schema of one user. */
export const userSchema: ObjectSchema<UserConfig> = schemaOf(UserConfig);
