import { list, record } from "./collection_schema.ts";
import { mount } from "./mount_schema.ts";
import { object, type ObjectSchema, partial } from "./object_schema.ts";
import { parseListen } from "./parse_listen.ts";
import { parseMaxStartups } from "./parse_max_startups.ts";
import {
  boolean,
  hostPath,
  integer,
  nonEmptyString,
  number,
  oneOf,
  optional,
  refine,
  string,
  withDefault,
} from "./schema.ts";
import { size } from "./size_schema.ts";
import type { Config, ContainerConfig, PoolConfig, UserConfig } from "./types.ts";

/** The most containers a warm pool may hold ready per profile. */
const MAX_POOL = 64;

/** Docker refuses memory limits under 6 MiB. */
const MIN_MEMORY = 6 * 2 ** 20;

const absolutePath = (example: string) =>
  refine(nonEmptyString(), `an absolute path like "${example}"`, (v) => v.startsWith("/"));

function listens(listen: string): boolean {
  try {
    parseListen(listen);
    return true;
  } catch {
    return false;
  }
}

/** Settings of a session's container; every key required (the defaults fill them in). */
export const containerSchema: ObjectSchema<ContainerConfig> = object<ContainerConfig>({
  image: nonEmptyString(),
  pull: oneOf(["if-not-present", "always", "never"]),
  shell: absolutePath("/bin/sh"),
  env: record(string(), {
    pattern: /^[A-Za-z_][A-Za-z0-9_]*$/,
    expected: `a variable name like "LANG"`,
  }),
  mounts: list(mount()),
  workdir: refine(
    string(),
    `"" or an absolute path like "/work"`,
    (v) => v === "" || v.startsWith("/"),
  ),
  user: string(),
  memory: refine(
    size(),
    `0 (no limit) or a size of at least "6m" (Docker's minimum), like "512m"`,
    (v) => v === 0 || v >= MIN_MEMORY,
  ),
  cpus: number({ min: 0 }),
  pids: integer({ min: 0 }),
  network: nonEmptyString(),
  hostname: refine(
    string(),
    `"" or a host name like "capsule"`,
    (v) =>
      v === "" ||
      /^[A-Za-z0-9]([A-Za-z0-9-]{0,61}[A-Za-z0-9])?(\.[A-Za-z0-9]([A-Za-z0-9-]{0,61}[A-Za-z0-9])?)*$/
        .test(v),
  ),
  capAdd: list(
    refine(nonEmptyString(), `a capability name like "CHOWN"`, (v) => /^(CAP_)?[A-Z_]+$/.test(v)),
  ),
  noNewPrivileges: boolean(),
  privileged: boolean(),
  idleTimeout: integer({ min: 0 }),
  maxSessionTime: integer({ min: 0 }),
  mode: oneOf(["session", "connection", "persistent"]),
  gracePeriod: integer({ min: 0 }),
  maxLifetime: integer({ min: 0 }),
  pool: object<PoolConfig>({ size: integer({ min: 0, max: MAX_POOL }) }),
});

/** One user; only `passwordHash` and the key lists say how they may log in. */
export const userSchema: ObjectSchema<UserConfig> = object<UserConfig>({
  passwordHash: optional(
    refine(
      string(),
      `a hash made by "capsule hash-password" (starting with "$scrypt$")`,
      (v) => v.startsWith("$scrypt$"),
    ),
  ),
  authorizedKeys: withDefault(list(nonEmptyString()), () => []),
  authorizedKeysFiles: withDefault(list(hostPath()), () => []),
  container: withDefault(partial(containerSchema), () => ({})),
});

/** The whole configuration after layering: every key is present (from the defaults at least). */
export const configSchema: ObjectSchema<Config> = object<Config>({
  server: object<Config["server"]>({
    listen: refine(
      string(),
      `"host:port" with a port from 0 to 65535, like "127.0.0.1:2222" or "[::1]:2222"`,
      listens,
    ),
    hostKeys: list(hostPath()),
    stateDir: hostPath(),
    banner: string(),
    loginTimeout: integer({ min: 1, max: 3600 }),
    maxAuthTries: integer({ min: 1, max: 100 }),
    maxStartups: refine(
      string(),
      `"start:rate:full" like "10:30:100" (start <= full, rate 0-100)`,
      (v) => parseMaxStartups(v) !== undefined,
    ),
    maxStartupsPerSource: integer({ min: 1 }),
    maxSessions: integer({ min: 1, max: 1000 }),
    idleTimeout: integer({ min: 0 }),
    keepaliveInterval: integer({ min: 1 }),
    keepaliveCountMax: integer({ min: 1 }),
    penalties: object<Config["server"]["penalties"]>({
      enabled: boolean(),
      authFail: integer({ min: 0 }),
      noAuth: integer({ min: 0 }),
      loginTimeout: integer({ min: 0 }),
      min: integer({ min: 0 }),
      max: integer({ min: 0 }),
    }),
    instance: refine(
      string(),
      `"" or a name of letters, digits, ".", "_", "-", ":" (at most 64)`,
      (v) => /^[A-Za-z0-9._:-]{0,64}$/.test(v),
    ),
    drainTimeout: integer({ min: 0 }),
    sweepInterval: integer({ min: 1 }),
  }),
  log: object<Config["log"]>({
    level: oneOf(["debug", "info", "warn", "error"]),
    format: oneOf(["auto", "json", "text"]),
  }),
  auth: object<Config["auth"]>({ anyUserKeysFiles: list(hostPath()) }),
  session: object<Config["session"]>({
    envAllow: list(
      refine(
        string(),
        `a variable name, with "*" allowed at the end, like "LANG" or "LC_*"`,
        (v) => /^[A-Za-z_][A-Za-z0-9_]*\*?$/.test(v),
      ),
    ),
  }),
  docker: object<Config["docker"]>({ host: string() }),
  container: containerSchema,
  unsafe: object<Config["unsafe"]>({
    privileged: boolean(),
    hostNamespaces: boolean(),
    engineSocket: boolean(),
  }),
  users: record(userSchema, {
    pattern: /^[a-z_][a-z0-9_.-]{0,31}$/i,
    expected: `a user name (a letter or "_", then letters, digits, "_", "." or "-"; at most 32)`,
  }),
});
