import type { Logger } from "../log/mod.ts";

/** Options of {@linkcode startMetricsServer}. */
export interface MetricsServerOptions {
  hostname: string;
  port: number;
  /** The `/metrics` body, in Prometheus' text format. */
  render(): string;
  /** Whether `/readyz` says 200: the SSH port listens and the engine answers. */
  ready(): boolean;
  logger: Logger;
}

/** A started metrics listener. */
export interface MetricsServer {
  /** The address actually bound. */
  readonly address: { hostname: string; port: number };
  /** Stops listening; resolves once closed. */
  close(): Promise<void>;
}

/** The content type of the text exposition format. */
export const METRICS_CONTENT_TYPE = "text/plain; version=0.0.4; charset=utf-8";

/**
 * Answers one request: `GET /metrics` (the exposition), `/healthz` (200
 * while the process serves), `/readyz` (200 or 503); anything else 404, and
 * other methods than GET and HEAD 405.
 */
export function metricsHandler(
  options: Pick<MetricsServerOptions, "render" | "ready">,
): (request: Request) => Response {
  return (request) => {
    if (request.method !== "GET" && request.method !== "HEAD") {
      return new Response("method not allowed\n", { status: 405, headers: { allow: "GET, HEAD" } });
    }
    switch (new URL(request.url).pathname) {
      case "/metrics":
        return new Response(options.render(), {
          headers: { "content-type": METRICS_CONTENT_TYPE },
        });
      case "/healthz":
        return new Response("ok\n");
      case "/readyz":
        return options.ready()
          ? new Response("ready\n")
          : new Response("not ready\n", { status: 503 });
      default:
        return new Response("not found\n", { status: 404 });
    }
  };
}

/**
 * Serves `/metrics`, `/healthz` and `/readyz` over HTTP on `hostname:port`
 * (port 0 picks a free one). It has no authentication: bind it to loopback
 * or a private network.
 */
export async function startMetricsServer(options: MetricsServerOptions): Promise<MetricsServer> {
  const listening = Promise.withResolvers<{ hostname: string; port: number }>();
  const server = Deno.serve({
    hostname: options.hostname,
    port: options.port,
    onListen: (addr) => listening.resolve({ hostname: addr.hostname, port: addr.port }),
    onError: (error) => {
      options.logger.warn("metrics.error", { error: String(error) });
      return new Response("internal error\n", { status: 500 });
    },
  }, metricsHandler(options));
  const address = await listening.promise;
  options.logger.info("metrics.listening", address);
  return {
    address,
    close: () => server.shutdown(),
  };
}
