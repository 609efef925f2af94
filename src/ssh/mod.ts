/** The SSH edge: the only place that imports ssh2. */
export * from "./ssh_server.ts";
export * from "./host_keys.ts";
export * from "./channel_io.ts";
export * from "./algorithms.ts";
export * from "./admission.ts";
export * from "./connection_limits.ts";
export * from "./connection_observer.ts";
export * from "./stream_socket.ts";
export * from "./spawn_client.ts";
