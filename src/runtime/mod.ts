/** The container engine behind capsule's sessions. */
export * from "./container_runtime.ts";
export * from "./docker_runtime.ts";
export * from "./demux_docker_stream.ts";
export * from "./labels.ts";
