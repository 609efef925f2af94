import type { ContainerConfig } from "../config/types.ts";
import type { RunningProcess } from "../runtime/mod.ts";
import type { SessionContext } from "./session_context.ts";

/** A session's process where a {@linkcode Placement} put it. */
export interface PlacedProcess {
  readonly process: RunningProcess;
  /**
   * Aborted when the container reaches its maximum lifetime; the reason is
   * the line for the user. The session ends as on a timeout.
   */
  readonly expired: AbortSignal;
  /** Ends the session's process now (client gone, timeout). Idempotent. */
  end(): void;
  /**
   * Gives back what the session held: removes its own container, or drops its
   * hold on a shared one. Called once, when the session is over.
   */
  release(): Promise<void>;
}

/**
 * Decides which container a session's process runs in (a fresh one, the
 * connection's, the user's, a warm one) and starts it there.
 */
export interface Placement {
  /** Starts the session's process; throws a `CapsuleError` the user can read. */
  launch(ctx: SessionContext, container: ContainerConfig): Promise<PlacedProcess>;
}
