/** Prometheus metrics and health checks: the registry, capsule's metrics, the HTTP listener. */
export * from "./registry.ts";
export * from "./capsule_metrics.ts";
export * from "./engine_health.ts";
export * from "./event_loop_delay.ts";
export * from "./metrics_server.ts";
