// @ts-types="@types/dockerode"
import type Docker from "dockerode";
import { CapsuleError } from "../errors/mod.ts";
import { engineErrorOf, isUnreachable, unreachable } from "./_engine_errors.ts";
import type { EnsureImageOptions } from "./container_runtime.ts";

/**
 * Makes sure the engine has `image`, pulling it as the pull policy says:
 * `never` pulls nothing, `always` pulls every time (a failed pull of an image
 * that is present is not fatal), otherwise only a missing image is pulled.
 *
 * @throws {CapsuleError} `IMAGE_NOT_FOUND` when the image is missing and could
 *   not be pulled, `ENGINE_UNREACHABLE` when the engine does not answer
 */
export async function ensureImage(
  docker: Docker,
  image: string,
  options: EnsureImageOptions,
): Promise<void> {
  if (options.policy !== "always" && await hasImage(docker, image)) return;
  if (options.policy === "never") {
    throw new CapsuleError(
      "IMAGE_NOT_FOUND",
      `Cannot start a container: image "${image}" is not present and pulling is disabled`,
    );
  }
  try {
    await pull(docker, image);
  } catch (error) {
    if (isUnreachable(error)) throw unreachable(error);
    // With "always", a failed pull of an image that is present is not fatal.
    if (options.policy === "always" && await hasImage(docker, image)) return;
    throw new CapsuleError(
      "IMAGE_NOT_FOUND",
      `Cannot start a container: image "${image}" not found and could not be pulled`,
      { cause: error },
    );
  }
}

async function hasImage(docker: Docker, image: string): Promise<boolean> {
  try {
    await docker.getImage(image).inspect();
    return true;
  } catch (error) {
    if (engineErrorOf(error).statusCode === 404) return false;
    if (isUnreachable(error)) throw unreachable(error);
    throw error;
  }
}

async function pull(docker: Docker, image: string): Promise<void> {
  const stream = await docker.pull(image);
  await new Promise<void>((resolve, reject) => {
    docker.modem.followProgress(stream, (error: Error | null, events: unknown[]) => {
      const failed = events?.find((e) => typeof e === "object" && e !== null && "error" in e) as {
        error?: string;
      } | undefined;
      if (error) reject(error);
      else if (failed?.error) reject(new Error(failed.error));
      else resolve();
    });
  });
}
