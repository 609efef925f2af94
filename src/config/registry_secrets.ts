import { type ConfigPath, formatPath } from "./config_path.ts";
import type { RegistryConfig } from "./docker_schema.ts";
import { canonicalRegistry } from "./registry_host.ts";
import type { Config } from "./types.ts";

/** A problem with the registry credentials of a config, at its path. */
export interface RegistryIssue {
  path: ConfigPath;
  message: string;
}

/**
 * Checks that each of `docker.registries` says one way to log in: a
 * `username` with `password` or `passwordFile`, or an `identityToken`.
 * Pure: nothing is read.
 */
export function registryIssues(config: Config): RegistryIssue[] {
  const issues: RegistryIssue[] = [];
  for (const [host, entry] of Object.entries(config.docker.registries)) {
    const at = ["docker", "registries", host];
    const given = (["password", "passwordFile", "identityToken"] as const)
      .filter((key) => entry[key] !== undefined);
    if (given.length !== 1) {
      issues.push({
        path: at,
        message: `"docker.registries.${host}" must have exactly one of "password", ` +
          `"passwordFile" and "identityToken": got ${
            given.length === 0 ? "none" : given.map((k) => `"${k}"`).join(", ")
          }`,
      });
    } else if (given[0] !== "identityToken" && entry.username === "") {
      issues.push({
        path: [...at, "username"],
        message: `"docker.registries.${host}.username" must be set with "${given[0]}"`,
      });
    }
  }
  return issues;
}

/**
 * Reads the secrets a config points to, in place: each `passwordFile` into
 * its entry's `password`, and the `auths` of `docker.configFile` into
 * `docker.registries` (for hosts not configured there). Nothing read is ever
 * part of a message.
 *
 * @returns a problem per file that cannot be read or understood
 */
export async function readRegistrySecrets(config: Config): Promise<RegistryIssue[]> {
  const issues: RegistryIssue[] = [];
  const registries = config.docker.registries;
  for (const [host, entry] of Object.entries(registries)) {
    if (entry.passwordFile === undefined) continue;
    const path = ["docker", "registries", host, "passwordFile"];
    try {
      const text = (await Deno.readTextFile(entry.passwordFile)).replace(/\r?\n$/, "");
      if (text === "") {
        issues.push({ path, message: `"${formatPath(path)}": "${entry.passwordFile}" is empty` });
      }
      entry.password = text;
    } catch (error) {
      issues.push({
        path,
        message: `"${formatPath(path)}": cannot read "${entry.passwordFile}": ${reason(error)}`,
      });
    }
  }
  const file = config.docker.configFile;
  if (file === undefined) return issues;
  const path = ["docker", "configFile"];
  let parsed: unknown;
  try {
    parsed = JSON.parse(await Deno.readTextFile(file));
  } catch (error) {
    const why = error instanceof SyntaxError ? "not valid JSON" : reason(error);
    issues.push({ path, message: `"docker.configFile": cannot read "${file}": ${why}` });
    return issues;
  }
  const configured = new Set(Object.keys(registries).map(canonicalRegistry));
  for (const [key, auth] of Object.entries(authsOf(parsed))) {
    const host = canonicalRegistry(key);
    if (configured.has(host)) continue;
    const entry = fromDockerAuth(auth);
    if (entry === "helper") continue;
    if (entry === undefined) {
      issues.push({
        path,
        message: `"docker.configFile": the entry of "${key}" in "${file}" has no usable "auth"`,
      });
      continue;
    }
    registries[host] = entry;
    configured.add(host);
  }
  return issues;
}

/** `auths` of a Docker client config, or nothing. */
function authsOf(parsed: unknown): Record<string, unknown> {
  if (typeof parsed !== "object" || parsed === null) return {};
  const auths = (parsed as { auths?: unknown }).auths;
  return typeof auths === "object" && auths !== null ? auths as Record<string, unknown> : {};
}

/**
 * One entry of `auths`: `auth` is base64 of `user:password`; `identitytoken`
 * replaces it. An entry with neither (`{}`) keeps its credentials in a
 * helper (`credsStore`), which capsule does not run: `helper`.
 */
function fromDockerAuth(value: unknown): RegistryConfig | "helper" | undefined {
  if (typeof value !== "object" || value === null) return undefined;
  const { auth, identitytoken } = value as { auth?: unknown; identitytoken?: unknown };
  if (typeof identitytoken === "string" && identitytoken !== "") {
    return { username: "", identityToken: identitytoken };
  }
  if (auth === undefined || auth === "") return "helper";
  if (typeof auth !== "string") return undefined;
  let decoded: string;
  try {
    decoded = new TextDecoder().decode(Uint8Array.from(atob(auth), (c) => c.charCodeAt(0)));
  } catch {
    return undefined;
  }
  const colon = decoded.indexOf(":");
  if (colon <= 0) return undefined;
  return { username: decoded.slice(0, colon), password: decoded.slice(colon + 1) };
}

function reason(error: unknown): string {
  if (error instanceof Deno.errors.NotFound) return "no such file";
  if (error instanceof Deno.errors.PermissionDenied) return "permission denied";
  if (error instanceof Deno.errors.IsADirectory) return "it is a directory";
  return error instanceof Error ? error.name : "unreadable";
}
