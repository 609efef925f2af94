/** Container lifecycle beyond one session: orphan sweeps and live-session tracking. */
export * from "./orphan_sweeper.ts";
export * from "./track_live_sessions.ts";
