import { CapsuleError } from "./capsule_error.ts";

/**
 * The refusal of a login whose container settings could not be had: the
 * config webhook did not answer in time, answered an error, or answered
 * settings that are not valid or not allowed. The user reads one line with
 * the connection's id; the log has `cause`. Exit status 255, as OpenSSH's
 * refusals.
 *
 * @param username who logged in
 * @param connectionId the connection's id, for the operator to find the log line
 * @param options `cause`: why, for the operator's log
 */
export function loginSettingsFailed(
  username: string,
  connectionId: string,
  options: { cause?: unknown } = {},
): CapsuleError {
  return new CapsuleError(
    "LOGIN_SETTINGS_FAILED",
    `Cannot log in as "${username}": the server could not get the settings for this login (connection ${connectionId})`,
    { ...options, exitCode: 255 },
  );
}
