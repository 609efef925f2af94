/** Keys and list indexes from the root of the config to a value. */
export type ConfigPath = readonly (string | number)[];

/** `container.mounts[0].source` for `["container", "mounts", 0, "source"]`. */
export function formatPath(path: ConfigPath): string {
  let text = "";
  for (const segment of path) {
    text += typeof segment === "number" ? `[${segment}]` : text === "" ? segment : `.${segment}`;
  }
  return text === "" ? "config" : text;
}

/** A short description of any input for messages: `"lots"`, `12`, `a list`. */
export function describeValue(input: unknown): string {
  if (Array.isArray(input)) return "a list";
  if (input === null || input === undefined) return "nothing";
  if (typeof input === "object") return "a mapping";
  if (typeof input === "string") {
    return JSON.stringify(input.length > 60 ? `${input.slice(0, 57)}...` : input);
  }
  return String(input);
}
