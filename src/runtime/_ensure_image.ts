import { CapsuleError } from "../errors/mod.ts";
import type { ContainerRuntime, EnsureImageOptions } from "./container_runtime.ts";

/**
 * Makes sure the engine has `image`, pulling it as the pull policy says:
 * `never` pulls nothing, `always` pulls every time (a failed pull of an image
 * that is present is not fatal), otherwise only a missing image is pulled.
 * The plain policy, without credentials, sharing or progress: the server
 * wraps the runtime in an `ImagePuller` that adds them.
 *
 * @throws {CapsuleError} `IMAGE_NOT_FOUND` when the image is missing and
 *   pulling is off, else what `pullImage` throws
 */
export async function ensureImage(
  runtime: Pick<ContainerRuntime, "hasImage" | "pullImage">,
  image: string,
  options: EnsureImageOptions,
): Promise<void> {
  if (options.policy !== "always" && await runtime.hasImage(image)) return;
  if (options.policy === "never") throw pullingDisabled(image);
  try {
    await runtime.pullImage(image);
  } catch (error) {
    if (options.policy === "always" && await runtime.hasImage(image)) return;
    throw error;
  }
}

/** The image is missing and `pull: never` forbids getting it. */
export function pullingDisabled(image: string): CapsuleError {
  return new CapsuleError(
    "IMAGE_NOT_FOUND",
    `Cannot start a container: image "${image}" is not present and pulling is disabled`,
  );
}
