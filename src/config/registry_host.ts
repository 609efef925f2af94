/** Names Docker Hub goes by in image references and in Docker's `config.json`. */
const DOCKER_HUB = new Set(["docker.io", "index.docker.io", "registry-1.docker.io"]);

/**
 * The one name capsule keys a registry by: the host (and port) without a
 * scheme or path, in lower case, and `docker.io` for every name of Docker Hub.
 *
 * @example
 * ```ts
 * canonicalRegistry("https://index.docker.io/v1/"); // "docker.io"
 * canonicalRegistry("Registry.Example:5000"); // "registry.example:5000"
 * ```
 */
export function canonicalRegistry(host: string): string {
  const bare = host.trim().replace(/^[a-z][a-z0-9+.-]*:\/\//i, "").replace(/\/.*$/, "")
    .toLowerCase();
  return DOCKER_HUB.has(bare) ? "docker.io" : bare;
}

/**
 * The registry an image reference pulls from: its first path component when
 * that looks like a host (has a `.` or a `:`, or is `localhost`), otherwise
 * Docker Hub, as the Docker client decides.
 *
 * @example
 * ```ts
 * registryOf("php:8-cli"); // "docker.io"
 * registryOf("127.0.0.1:5000/team/app:1"); // "127.0.0.1:5000"
 * ```
 */
export function registryOf(image: string): string {
  const slash = image.indexOf("/");
  if (slash < 0) return "docker.io";
  const first = image.slice(0, slash);
  const isHost = first.includes(".") || first.includes(":") || first === "localhost";
  return isHost ? canonicalRegistry(first) : "docker.io";
}
