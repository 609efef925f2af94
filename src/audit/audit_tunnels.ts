import type { TunnelOpener, TunnelTarget } from "../forward/mod.ts";
import type { AuditFields, AuditRecorder } from "./audit_event.ts";

/** A forward's target as audit fields. */
function where(target: TunnelTarget): AuditFields {
  return target.kind === "tcp"
    ? { host: target.host.slice(0, 255), port: target.port }
    : { socket: target.path.slice(0, 255) };
}

/**
 * Wraps the forwarding layer so that each forwarded channel is audited:
 * `forward.open` when it is accepted, `forward.close` with its duration and
 * bytes each way when it ends, and `forward.refused` with the reason (a
 * policy's, or a target that cannot be reached).
 */
export function auditTunnels(open: TunnelOpener, recorder: AuditRecorder): TunnelOpener {
  return async (request) => {
    const base: AuditFields = {
      connection: request.connectionId,
      user: request.identity.username,
      kind: "local",
      ...where(request.target),
    };
    const decision = await open(request);
    if ("refused" in decision) {
      recorder.record("forward.refused", {
        ...base,
        reason: decision.refused,
        prohibited: decision.prohibited,
      });
      return decision;
    }
    return {
      discard: () => decision.discard(),
      pipe: async (end) => {
        recorder.record("forward.open", base);
        const started = performance.now();
        let bytesIn = 0;
        let bytesOut = 0;
        const counted = {
          closed: end.closed,
          end: () => end.end(),
          write: (data: Uint8Array) => {
            bytesOut += data.length;
            return end.write(data);
          },
          incoming: (async function* () {
            for await (const data of end.incoming) {
              bytesIn += data.length;
              yield data;
            }
          })(),
        };
        try {
          await decision.pipe(counted);
        } finally {
          recorder.record("forward.close", {
            ...base,
            duration_ms: Math.round(performance.now() - started),
            bytes_in: bytesIn,
            bytes_out: bytesOut,
          });
        }
      },
    };
  };
}
