// @ts-types="@types/dockerode"
import type Docker from "dockerode";
import { registryOf } from "../config/mod.ts";
import { CapsuleError } from "../errors/mod.ts";
import { engineErrorOf, engineMessage, isUnreachable, unreachable } from "./_engine_errors.ts";
import type { PullEvent, PullImageOptions, RegistryAuth } from "./container_runtime.ts";

/** Whether the engine has `image`. */
export async function hasImage(docker: Docker, image: string): Promise<boolean> {
  try {
    await docker.getImage(image).inspect();
    return true;
  } catch (error) {
    if (engineErrorOf(error).statusCode === 404) return false;
    if (isUnreachable(error)) throw unreachable(error);
    throw error;
  }
}

/** A progress message of the engine's pull stream. */
interface EngineEvent {
  id?: string;
  status?: string;
  progressDetail?: { current?: number; total?: number };
  error?: string;
}

/**
 * Pulls `image` once, with the credentials given (sent in the
 * `X-Registry-Auth` header of this request only), reporting each layer's
 * progress.
 *
 * @throws {CapsuleError} see `ContainerRuntime.pullImage`
 */
export async function pullImage(
  docker: Docker,
  image: string,
  options: PullImageOptions = {},
): Promise<void> {
  try {
    const stream = await docker.pull(
      image,
      options.auth ? { authconfig: authConfig(options.auth) } : {},
    );
    await new Promise<void>((resolve, reject) => {
      let failed: string | undefined;
      docker.modem.followProgress(
        stream,
        (error: Error | null) => {
          if (error) reject(error);
          else if (failed !== undefined) reject(new PullStreamError(failed));
          else resolve();
        },
        (event: EngineEvent) => {
          if (typeof event.error === "string") failed ??= event.error;
          else if (event.id !== undefined && event.status !== undefined) {
            options.onEvent?.(pullEvent(event));
          }
        },
      );
    });
  } catch (error) {
    throw pullError(image, error);
  }
}

/**
 * An error the engine reported inside its pull stream: the engine answered,
 * so however it is worded ("dial tcp ...: connect: connection refused" from
 * Podman when the registry is down) it is about the registry, not the engine.
 */
export class PullStreamError extends Error {}

/** The engine's auth config: its field names, nothing empty. */
function authConfig(auth: RegistryAuth): Record<string, string> {
  const config: Record<string, string> = { serveraddress: auth.serverAddress };
  if (auth.identityToken) config["identitytoken"] = auth.identityToken;
  else {
    if (auth.username) config["username"] = auth.username;
    if (auth.password !== undefined) config["password"] = auth.password;
  }
  return config;
}

function pullEvent(event: EngineEvent): PullEvent {
  const detail = event.progressDetail ?? {};
  return {
    layer: event.id ?? "",
    status: event.status ?? "",
    ...(typeof detail.current === "number" ? { current: detail.current } : {}),
    ...(typeof detail.total === "number" ? { total: detail.total } : {}),
  };
}

const DENIED = /unauthorized|authentication required|no basic auth credentials|denied/i;
const NOT_FOUND = /manifest unknown|not found|does not exist|name unknown/i;
const UNREACHABLE =
  /dial tcp|connection refused|no such host|i\/o timeout|network is unreachable|deadline exceeded|TLS handshake|HTTP response to HTTPS client|connection reset|EOF$/i;

/**
 * What a failed pull means for the user: the registry refused us, does not
 * answer, or has no such image; the engine's own words go to the cause.
 */
export function pullError(image: string, error: unknown): CapsuleError {
  if (error instanceof CapsuleError) return error;
  // Without a status the engine itself did not answer; with one, the engine
  // relays what the registry did (a refused registry also says "connect").
  if (
    !(error instanceof PullStreamError) && engineErrorOf(error).statusCode === undefined &&
    isUnreachable(error)
  ) {
    return unreachable(error);
  }
  const registry = registryOf(image);
  const message = engineMessage(error);
  const cause = new Error(message);
  // Docker Hub answers a missing repository as an access denial.
  if (/repository does not exist or may require/i.test(message)) {
    return new CapsuleError(
      "IMAGE_NOT_FOUND",
      `Cannot start a container: image "${image}" not found in registry "${registry}", or it needs a login capsule does not have`,
      { cause },
    );
  }
  if (DENIED.test(message)) {
    return new CapsuleError(
      "IMAGE_PULL_DENIED",
      `Cannot start a container: image "${image}": registry "${registry}" refused access (wrong or missing credentials)`,
      { cause },
    );
  }
  if (UNREACHABLE.test(message)) {
    return new CapsuleError(
      "REGISTRY_UNREACHABLE",
      `Cannot start a container: image "${image}": registry "${registry}" cannot be reached`,
      { cause },
    );
  }
  if (NOT_FOUND.test(message)) {
    return new CapsuleError(
      "IMAGE_NOT_FOUND",
      `Cannot start a container: image "${image}" not found in registry "${registry}"`,
      { cause },
    );
  }
  return new CapsuleError(
    "IMAGE_PULL_FAILED",
    `Cannot start a container: image "${image}" could not be pulled`,
    { cause },
  );
}
