/** Forwarding into the container: local and dynamic forwards through a relay in the container. */
export * from "./tunnel.ts";
export * from "./socat_address.ts";
export * from "./pipe_tunnel.ts";
export * from "./local_forwarder.ts";
