/**
 * Images: one shared pull per image with its progress, registry credentials
 * for the image's own registry only, and pulls ahead of the first login.
 */
export * from "./image_puller.ts";
export * from "./images_of.ts";
export * from "./pre_puller.ts";
export * from "./pull_tally.ts";
export * from "./registry_auth_for.ts";
