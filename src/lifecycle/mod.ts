/**
 * Container lifecycle beyond one session: where sessions run (fresh, shared
 * or warm containers) and the orphan sweep.
 */
export * from "./fresh_containers.ts";
export * from "./shared_containers.ts";
export * from "./warm_pool.ts";
export * from "./placement_by_mode.ts";
export * from "./orphan_sweeper.ts";
export * from "./container_alarms.ts";
export * from "./connection_containers.ts";
export * from "./process_beacon.ts";
export * from "./shared_holds.ts";
export * from "./owner_liveness.ts";
