/** Domain errors shared by every layer. */
export * from "./capsule_error.ts";
