import type { PlacedProcess, Placement } from "../session/mod.ts";
import type { AuditRecorder } from "./audit_event.ts";
import { sessionFields } from "./audit_session.ts";

/**
 * A {@linkcode Placement} that audits `session.start` once the session's
 * process runs: its kind, the command of an exec (the user's own words: the
 * audit file is the operator's), the subsystem, whether it has a TTY, its
 * container and placement, and `setup_ms`, from the request to the
 * process running.
 *
 * @param placement the placement that does the work
 * @param recorder where `session.start` goes
 * @param placementOf the placement a container was made for (`pool`,
 *   `session`...), when known; else the session's `container.mode`
 */
export function auditPlacement(
  placement: Placement,
  recorder: AuditRecorder,
  placementOf: (containerId: string) => string | undefined = () => undefined,
): Placement {
  return {
    async launch(ctx, container): Promise<PlacedProcess> {
      const started = performance.now();
      const placed = await placement.launch(ctx, container);
      const request = ctx.request;
      const id = placed.process.containerId;
      recorder.record("session.start", {
        ...sessionFields(ctx),
        kind: request.kind,
        ...(request.kind === "exec" ? { command: request.command } : {}),
        ...(request.kind === "subsystem" ? { subsystem: request.name } : {}),
        pty: ctx.pty !== undefined,
        container: id.slice(0, 12),
        mode: placementOf(id) ?? container.mode,
        setup_ms: Math.round(performance.now() - started),
      });
      return placed;
    },
  };
}
