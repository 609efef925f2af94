/** The audit log: events, the JSON-lines file, and the layers that record them. */
export * from "./audit_event.ts";
export * from "./audit_log.ts";
export * from "./audit_session.ts";
export * from "./audit_placement.ts";
export * from "./audited_runtime.ts";
export * from "./sftp_log_parser.ts";
export * from "./audit_connections.ts";
export * from "./audit_tunnels.ts";
