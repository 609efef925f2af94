/** Wiring of the layers into a running server. */
export * from "./start_server.ts";
export * from "./serve.ts";
export * from "./session_chain.ts";
export * from "./probe_disk_quota.ts";
