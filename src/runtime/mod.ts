/**
 * The container engine behind capsule's sessions: the runtime interface, its
 * option objects and the labels. `DockerRuntime` is not re-exported: it is
 * imported from `docker_runtime.ts` where the server is composed, so that
 * importing this module does not load dockerode.
 */
export * from "./container_runtime.ts";
export * from "./demux_docker_stream.ts";
export * from "./labels.ts";
