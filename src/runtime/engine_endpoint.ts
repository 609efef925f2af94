import { join } from "node:path";

/** The PEM files capsule proves itself with to a TLS engine, and where they were named. */
export interface EngineTlsFiles {
  ca: string;
  cert: string;
  key: string;
  /** Which setting named them: `docker.tls`, or `DOCKER_CERT_PATH` (with `DOCKER_TLS_VERIFY`). */
  from: "docker.tls" | "DOCKER_CERT_PATH";
}

/** Where the engine's API listens, and how capsule reaches it. */
export type EngineEndpoint =
  | { kind: "socket"; path: string }
  | { kind: "tcp"; host: string; port: number; tls?: EngineTlsFiles };

/** The engine's settings as {@linkcode engineEndpoint} reads them (`docker.host`, `docker.tls`). */
export interface EngineSettings {
  host: string;
  tls?: { ca: string; cert: string; key: string };
}

/** The socket an engine listens on when nothing says otherwise. */
export const DEFAULT_SOCKET = "/var/run/docker.sock";

/**
 * Where the engine is, as the Docker CLI decides it: `docker.host`, else
 * `DOCKER_HOST`, else the local socket; for a `tcp://` engine, TLS with the
 * files of `docker.tls`, else (when `DOCKER_TLS_VERIFY` is set to anything)
 * `ca.pem`, `cert.pem` and `key.pem` in `DOCKER_CERT_PATH` (`~/.docker` by
 * default). A `tcp://` address without a port means 2376 with TLS, 2375
 * without.
 *
 * @param settings `docker.host` and `docker.tls`
 * @param env the environment (`Deno.env.toObject()`)
 * @throws {TypeError} for an address that is neither `unix://` nor `tcp://`,
 *   or `docker.tls` with a socket
 * @example
 * engineEndpoint({ host: "tcp://10.0.0.5" }, { DOCKER_TLS_VERIFY: "1", HOME: "/root" });
 * // { kind: "tcp", host: "10.0.0.5", port: 2376, tls: { ca: "/root/.docker/ca.pem", ... } }
 */
export function engineEndpoint(
  settings: EngineSettings,
  env: Record<string, string | undefined>,
): EngineEndpoint {
  const fromConfig = settings.host !== "";
  const host = fromConfig ? settings.host : env.DOCKER_HOST ?? "";
  const named = fromConfig ? "docker.host" : "DOCKER_HOST";
  if (host === "" || host.startsWith("unix://") || host.startsWith("/")) {
    if (settings.tls) {
      throw new TypeError(
        `"docker.tls" is set but the engine is a local socket: set "docker.host" to tcp://HOST:2376`,
      );
    }
    const path = host.startsWith("unix://") ? host.slice("unix://".length) : host;
    return { kind: "socket", path: path === "" ? DEFAULT_SOCKET : path };
  }
  let url: URL;
  try {
    url = new URL(host.includes("://") ? host : `tcp://${host}`);
  } catch {
    throw new TypeError(
      `Unsupported engine address "${host}" (${named}): use unix:///path or tcp://host:port`,
    );
  }
  if (url.protocol !== "tcp:" && url.protocol !== "http:") {
    throw new TypeError(
      `Unsupported engine address "${host}" (${named}): use unix:///path or tcp://host:port`,
    );
  }
  const tls = tlsFiles(settings, env);
  // URL keeps the brackets of an IPv6 address; the socket layer wants it bare.
  const hostname = url.hostname.replace(/^\[(.*)\]$/, "$1");
  const port = url.port !== "" ? Number(url.port) : tls ? 2376 : 2375;
  return { kind: "tcp", host: hostname, port, ...(tls ? { tls } : {}) };
}

function tlsFiles(
  settings: EngineSettings,
  env: Record<string, string | undefined>,
): EngineTlsFiles | undefined {
  if (settings.tls) return { ...settings.tls, from: "docker.tls" };
  // As the Docker CLI: any non-empty value turns verification on.
  if ((env.DOCKER_TLS_VERIFY ?? "") === "") return undefined;
  const dir = env.DOCKER_CERT_PATH || join(env.HOME ?? "/root", ".docker");
  return {
    ca: join(dir, "ca.pem"),
    cert: join(dir, "cert.pem"),
    key: join(dir, "key.pem"),
    from: "DOCKER_CERT_PATH",
  };
}

/** The endpoint as an address for messages: `unix:///var/run/docker.sock`, `tcp://10.0.0.5:2376`. */
export function describeEndpoint(endpoint: EngineEndpoint): string {
  if (endpoint.kind === "socket") return `unix://${endpoint.path}`;
  const host = endpoint.host.includes(":") ? `[${endpoint.host}]` : endpoint.host;
  return `tcp://${host}:${endpoint.port}`;
}
