import type { Placement } from "../session/mod.ts";

/**
 * Sends each session to the placement of its profile's `container.mode`:
 * `session` to `fresh` (a warm pool or fresh containers), `connection` and
 * `persistent` to `shared`.
 */
export function placementByMode(fresh: Placement, shared: Placement): Placement {
  return {
    launch: (ctx, container) =>
      container.mode === "session" ? fresh.launch(ctx, container) : shared.launch(ctx, container),
  };
}
