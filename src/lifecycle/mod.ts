/**
 * Container lifecycle beyond one session: where sessions run (fresh, shared
 * or warm containers), orphan sweeps and live-owner tracking.
 */
export * from "./fresh_container.ts";
export * from "./shared_containers.ts";
export * from "./warm_pool.ts";
export * from "./placement_by_mode.ts";
export * from "./orphan_sweeper.ts";
export * from "./track_live_sessions.ts";
