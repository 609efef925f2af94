import type { z } from "zod";
import { hostPath } from "./host_path_schema.ts";
import { boolean, integer, object, record, string } from "./value_schemas.ts";

/**
 * A registry host as image references name it: a host name or address with
 * an optional port, e.g. `registry.example`, `127.0.0.1:5000`, `docker.io`.
 */
export const REGISTRY_HOST = /^[A-Za-z0-9](?:[A-Za-z0-9.-]*[A-Za-z0-9])?(?::[0-9]{1,5})?$/;

/**
 * How capsule logs in to one registry: `username` with `password` or
 * `passwordFile`, or an `identityToken` (OAuth refresh token) alone.
 */
export const RegistryConfig = object({
  username: string().describe("User name at the registry; empty with `identityToken`.")
    .default(""),
  password: string()
    .describe("The password or access token, written here (prefer `passwordFile`).")
    .exactOptional(),
  passwordFile: hostPath()
    .describe(
      "A file holding the password or token (read at start-up and on reload; a final newline is dropped).",
    )
    .exactOptional(),
  identityToken: string()
    .describe("An identity (refresh) token instead of a user name and password.")
    .exactOptional(),
});
/** How capsule logs in to one registry. */
export type RegistryConfig = z.output<typeof RegistryConfig>;

/**
 * The files capsule proves itself with to an engine that listens on TCP with
 * `--tlsverify` (PEM, as `docker --tlscacert --tlscert --tlskey` takes them).
 */
export const EngineTlsConfig = object({
  ca: hostPath().describe("The CA that signed the engine's certificate (`ca.pem`)."),
  cert: hostPath().describe("capsule's client certificate, signed by a CA the engine trusts."),
  key: hostPath().describe("The private key of `cert`."),
});
/** capsule's TLS files for a remote engine. */
export type EngineTlsConfig = z.output<typeof EngineTlsConfig>;

/** The container engine, the registries it pulls from, and the images it pulls ahead. */
export const DockerConfig = object({
  host: string()
    .describe(
      "Engine address (`unix:///path`, `tcp://host:port`); empty for `DOCKER_HOST` or the default socket.",
    )
    .default(""),
  tls: EngineTlsConfig
    .describe(
      "TLS for a `tcp://` engine: CA, client certificate and key; unset for `DOCKER_TLS_VERIFY` and `DOCKER_CERT_PATH`.",
    )
    .exactOptional(),
  registries: record(RegistryConfig, {
    pattern: REGISTRY_HOST,
    expected: `a registry host like "registry.example" or "127.0.0.1:5000"`,
  })
    .describe(
      "Credentials by registry host (`docker.io` for Docker Hub); each is sent only to its own registry.",
    )
    .default({}),
  configFile: hostPath()
    .describe(
      "A Docker client `config.json` whose `auths` capsule also uses (read at start-up and on reload); registries listed in `registries` win.",
    )
    .exactOptional(),
  prePull: boolean()
    .describe(
      "Pull the images the config names in the background at start-up and after a reload.",
    )
    .default(true),
  refreshInterval: integer({ min: 0 })
    .describe(
      "Seconds between pulls of a `pull: always` image (in the background, and for logins); 0 to pull it at every use.",
    )
    .default(300),
});
/** The container engine and its registries. */
export type DockerConfig = z.output<typeof DockerConfig>;
