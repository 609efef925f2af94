/** Structured logging. */
export * from "./logger.ts";
