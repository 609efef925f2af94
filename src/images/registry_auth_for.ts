import { canonicalRegistry, type RegistryConfig, registryOf } from "../config/mod.ts";
import type { RegistryAuth } from "../runtime/mod.ts";

/**
 * The credentials to pull `image` with: those configured for its own
 * registry, or none. Never those of another registry.
 *
 * @param registries `docker.registries` after loading (passwords read from their files)
 */
export function registryAuthFor(
  registries: Readonly<Record<string, RegistryConfig>>,
  image: string,
): RegistryAuth | undefined {
  const registry = registryOf(image);
  const key = Object.keys(registries).find((host) => canonicalRegistry(host) === registry);
  const entry = key === undefined ? undefined : registries[key];
  if (entry === undefined) return undefined;
  if (entry.identityToken !== undefined) {
    return { serverAddress: registry, identityToken: entry.identityToken };
  }
  if (entry.password === undefined) return undefined;
  return { serverAddress: registry, username: entry.username, password: entry.password };
}

/** Every secret in `registries`, for scrubbing text that goes to a log. */
export function secretsOf(registries: Readonly<Record<string, RegistryConfig>>): string[] {
  return Object.values(registries)
    .flatMap((entry) => [entry.password, entry.identityToken])
    .filter((secret): secret is string => secret !== undefined && secret.length > 0);
}
