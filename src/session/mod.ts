/** Session logic: the state machine, its handler chain and the container handler. */
export * from "./session_context.ts";
export * from "./session.ts";
export * from "./env_allow_list.ts";
export * from "./paced_forwarder.ts";
export * from "./container_handler.ts";
export * from "./placement.ts";
export * from "./middleware/recover_errors.ts";
export * from "./middleware/log_session.ts";
export * from "./session_clock.ts";
export * from "./tell_user.ts";
export * from "./pull_progress.ts";
