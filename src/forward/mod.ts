/** Forwarding into the container: local, dynamic, remote and agent forwarding through relays in the container. */
export * from "./tunnel.ts";
export * from "./socat_address.ts";
export * from "./pipe_tunnel.ts";
export * from "./forward_budget.ts";
export * from "./local_forwarder.ts";
export * from "./relay_frames.ts";
export * from "./relay_listener.ts";
export * from "./splice_relay.ts";
export * from "./remote_forwarder.ts";
