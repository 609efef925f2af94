/** capsule's static tools: what they are, where they live in a container, and finding their build. */
export * from "./tools_manifest.ts";
export * from "./find_tools.ts";
