import { CapsuleError } from "./capsule_error.ts";

/**
 * The error of a session whose shell is not in its image: exit status 127,
 * as `docker run` and shells give for a command not found.
 *
 * @param shell the configured shell (`container.shell`)
 * @param image the image it was looked for in
 * @param options `cause`: what the engine or its init reported
 */
export function shellNotFound(
  shell: string,
  image: string,
  options: { cause?: unknown } = {},
): CapsuleError {
  return new CapsuleError(
    "SHELL_NOT_FOUND",
    `Cannot start session: shell "${shell}" not found in image "${image}"`,
    { ...options, exitCode: 127 },
  );
}
