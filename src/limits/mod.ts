/** What one user, and all of them together, may hold: caps, the container budget, disk watch. */
export * from "./container_budget.ts";
export * from "./disk_watcher.ts";
export * from "./format_bytes.ts";
export * from "./limit_sessions.ts";
export * from "./user_caps.ts";
export * from "./disk_limit.ts";
