import { posix } from "node:path";
import { type ConfigAnswer, configAnswerSchema } from "../config/mod.ts";
import { isPlainObject } from "../config/object_schema.ts";
import { fromContainerSsh } from "./containerssh_answer.ts";

/** The two shapes a config webhook may answer in. */
export type ConfigAnswerShape = "capsule" | "containerssh";

/** What {@linkcode parseConfigAnswer} makes of an answer. */
export type ParsedConfigAnswer =
  | { ok: true; shape: ConfigAnswerShape; answer: ConfigAnswer }
  | { ok: false; shape?: ConfigAnswerShape; problems: string[] };

/** The members of ContainerSSH's answer besides `config`: its connection metadata, echoed. */
const CONTAINERSSH_METADATA = new Set([
  "username",
  "authenticatedusername",
  "remoteaddress",
  "connectionid",
  "clientversion",
  "metadata",
  "environment",
  "files",
]);

/**
 * Validates a config webhook's parsed JSON answer: capsule's own shape
 * (`{"profile": ..., "container": {...}}`, both optional) or ContainerSSH's
 * (`{"config": {...}}`, mapped by `fromContainerSsh`), each checked by the
 * same schema as a user's `container` in the YAML file. Host paths (mount
 * sources) must be absolute. Whether the profile exists and the settings are
 * allowed is for the caller, which knows the config.
 */
export function parseConfigAnswer(json: unknown): ParsedConfigAnswer {
  if (!isPlainObject(json)) return { ok: false, problems: ["the answer is not a JSON object"] };
  const keys = Object.keys(json);
  if (keys.some((key) => key.toLowerCase() === "config")) {
    const shape = "containerssh";
    const extra = keys.filter((key) =>
      key.toLowerCase() !== "config" && !CONTAINERSSH_METADATA.has(key.toLowerCase())
    );
    if (extra.length > 0) {
      return {
        ok: false,
        shape,
        problems: [`unknown member ${extra.map((k) => JSON.stringify(k)).join(", ")}`],
      };
    }
    const config = keys.find((key) => key.toLowerCase() === "config")!;
    const mapped = fromContainerSsh(json[config]);
    if (mapped.problems.length > 0) return { ok: false, shape, problems: mapped.problems };
    return validate({ container: mapped.container }, shape);
  }
  return validate(json, "capsule");
}

function validate(input: unknown, shape: ConfigAnswerShape): ParsedConfigAnswer {
  const result = configAnswerSchema.parse(input, [], {
    resolvePath: (_path, value) =>
      value.startsWith("/")
        ? posix.normalize(value)
        : { error: `must be an absolute path in a webhook answer: got ${JSON.stringify(value)}` },
  });
  if (!result.ok) return { ok: false, shape, problems: result.issues.map((i) => i.message) };
  return { ok: true, shape, answer: result.value };
}
