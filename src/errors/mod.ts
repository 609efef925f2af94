/** Domain errors shared by every layer. */
export * from "./capsule_error.ts";
export * from "./shell_not_found.ts";
export * from "./login_settings_failed.ts";
