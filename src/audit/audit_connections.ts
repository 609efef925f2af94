import type { ConnectionObserver } from "../ssh/mod.ts";
import type { AuditRecorder } from "./audit_event.ts";

/**
 * Turns what the SSH layer observes into audit events: `connection.open`,
 * `auth` (every attempt, `result` accepted, partial (a second factor is
 * owed) or rejected, the key's fingerprint for public keys) and `connection.close` (reason, duration).
 */
export function auditConnections(recorder: AuditRecorder): ConnectionObserver {
  return {
    opened({ id, remote, client }) {
      recorder.record("connection.open", { connection: id, remote, client });
    },
    authAttempt(
      {
        connection,
        user,
        method,
        accepted,
        partial,
        secondFactor,
        query,
        fingerprint,
        certificate,
      },
    ) {
      recorder.record("auth", {
        connection,
        user,
        method,
        result: accepted ? "accepted" : partial ? "partial" : "rejected",
        ...(secondFactor !== undefined ? { second_factor: secondFactor } : {}),
        ...(query ? { query: true } : {}),
        ...(fingerprint !== undefined ? { fingerprint } : {}),
        ...(certificate
          ? {
            certificate_id: certificate.keyId.slice(0, 255),
            certificate_serial: certificate.serial,
          }
          : {}),
      });
    },
    closed({ id, user, reason, durationMs }) {
      recorder.record("connection.close", {
        connection: id,
        user,
        reason,
        duration_ms: durationMs,
      });
    },
  };
}
