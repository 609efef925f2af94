/**
 * ContainerSSH's config webhook answers (`{"config": {...}}`, its
 * `AppConfig`) in capsule's terms. What maps becomes the raw input of a
 * `container` override, which then goes through capsule's own schema; what
 * capsule decides itself is ignored; anything else set is a problem, since
 * capsule cannot honour it.
 *
 * As ContainerSSH merges an answer over its config, a zero value (`null`,
 * `""`, `0`, `false`, an empty list or mapping) means "not set": its Go
 * servers send every field, mostly zero. Keys match case-insensitively, as
 * Go's JSON decoder matches them.
 *
 * @module
 */
import { isPlainObject } from "../config/object_schema.ts";

/** What came of a ContainerSSH answer. */
export interface ContainerSshMapping {
  /** Raw input for capsule's `container` override schema. */
  container: Record<string, unknown>;
  /** Settings that cannot be honoured, one line each. */
  problems: string[];
}

/** Keys of an `AppConfig` (a node of it) whose settings capsule makes itself. */
const IGNORED = {
  execution: [
    "idlecommand",
    "agentpath",
    "disableagent",
    "subsystems",
    "exposeauthmetadataasenv",
    "containername",
  ],
  container: [
    "cmd",
    "entrypoint",
    "tty",
    "openstdin",
    "stdinonce",
    "attachstdin",
    "attachstdout",
    "attachstderr",
    "labels",
    "stopsignal",
    "stoptimeout",
    "domainname",
    "exposedports",
    "argsescaped",
    "networkdisabled",
  ],
  host: ["autoremove", "init", "restartpolicy", "logconfig", "capdrop"],
} as const;

const PULL: Record<string, string> = {
  always: "always",
  ifnotpresent: "if-not-present",
  never: "never",
};

/** Whether a JSON value is Go's zero value of its field, or made only of zero values. */
export function isZero(value: unknown): boolean {
  if (value === null || value === undefined || value === "" || value === 0 || value === false) {
    return true;
  }
  if (Array.isArray(value)) return value.length === 0;
  if (isPlainObject(value)) return Object.values(value).every(isZero);
  return false;
}

/** The non-zero fields of a JSON object, by lower-cased key. */
function fields(value: unknown): Map<string, [string, unknown]> {
  const found = new Map<string, [string, unknown]>();
  if (!isPlainObject(value)) return found;
  for (const [key, field] of Object.entries(value)) {
    if (!isZero(field)) found.set(key.toLowerCase(), [key, field]);
  }
  return found;
}

/**
 * Maps the `config` of a ContainerSSH answer (docker backend) to capsule's
 * container settings.
 *
 * @param config the answer's `config` member
 */
export function fromContainerSsh(config: unknown): ContainerSshMapping {
  const container: Record<string, unknown> = {};
  const problems: string[] = [];
  if (!isPlainObject(config)) {
    return { container, problems: [`"config" must be a JSON object`] };
  }
  const cannot = (path: string, why = "capsule cannot honour it") =>
    problems.push(`"config.${path}" is set, but ${why}`);

  const top = fields(config);
  const backend = top.get("backend");
  if (backend && backend[1] !== "docker") cannot("backend", `only "docker" maps to capsule`);
  top.delete("backend");
  const docker = fields(top.get("docker")?.[1]);
  top.delete("docker");
  for (const [, [key]] of top) cannot(key, "capsule takes it from its own config only");

  for (const [name, [key]] of docker) {
    if (name !== "execution" && name !== "timeouts") cannot(`docker.${key}`);
  }
  const execution = fields(docker.get("execution")?.[1]);
  for (const [name, [key, value]] of execution) {
    const at = `docker.execution.${key}`;
    if ((IGNORED.execution as readonly string[]).includes(name)) continue;
    switch (name) {
      case "container":
        mapContainer(value, at, container, cannot);
        break;
      case "host":
        mapHost(value, at, container, cannot);
        break;
      case "mode":
        container["mode"] = value;
        break;
      case "imagepullpolicy": {
        const pull = typeof value === "string" ? PULL[value.toLowerCase()] : undefined;
        if (pull === undefined) cannot(at, `it is not "Always", "IfNotPresent" or "Never"`);
        else container["pull"] = pull;
        break;
      }
      case "shellcommand":
        if (Array.isArray(value) && value.length === 1) container["shell"] = value[0];
        else cannot(at, "capsule's shell is one absolute path: give a list of one");
        break;
      default:
        cannot(at);
    }
  }
  return { container, problems };
}

type Cannot = (path: string, why?: string) => void;

/** Docker's `container.Config`. */
function mapContainer(value: unknown, at: string, out: Record<string, unknown>, cannot: Cannot) {
  for (const [name, [key, field]] of fields(value)) {
    if ((IGNORED.container as readonly string[]).includes(name)) continue;
    switch (name) {
      case "image":
        out["image"] = field;
        break;
      case "user":
        out["user"] = field;
        break;
      case "workingdir":
        out["workdir"] = field;
        break;
      case "hostname":
        out["hostname"] = field;
        break;
      case "env": {
        const env: Record<string, unknown> = {};
        for (const entry of Array.isArray(field) ? field : [field]) {
          const text = typeof entry === "string" ? entry : "";
          const equals = text.indexOf("=");
          if (equals <= 0) {
            cannot(`${at}.${key}`, `each entry must be "NAME=value"`);
            continue;
          }
          env[text.slice(0, equals)] = text.slice(equals + 1);
        }
        out["env"] = env;
        break;
      }
      default:
        cannot(`${at}.${key}`);
    }
  }
}

/** Docker's `container.HostConfig`. */
function mapHost(value: unknown, at: string, out: Record<string, unknown>, cannot: Cannot) {
  const mounts: unknown[] = [];
  for (const [name, [key, field]] of fields(value)) {
    if ((IGNORED.host as readonly string[]).includes(name)) continue;
    const path = `${at}.${key}`;
    switch (name) {
      case "binds":
        mounts.push(...(Array.isArray(field) ? field : [field]));
        break;
      case "mounts":
        for (const mount of Array.isArray(field) ? field : [field]) {
          const m = fields(mount);
          const type = m.get("type")?.[1] ?? "bind";
          if (type !== "bind") {
            cannot(path, `only mounts of type "bind" map to capsule (got ${JSON.stringify(type)})`);
            continue;
          }
          mounts.push({
            source: m.get("source")?.[1],
            target: m.get("target")?.[1],
            readOnly: m.get("readonly")?.[1] ?? false,
          });
        }
        break;
      case "networkmode":
        out["network"] = field;
        break;
      case "privileged":
        out["privileged"] = field;
        break;
      case "memory":
        out["memory"] = field;
        break;
      case "nanocpus":
        out["cpus"] = typeof field === "number" ? field / 1e9 : field;
        break;
      case "pidslimit":
        // Docker: 0 or -1 is no limit; capsule: 0.
        out["pids"] = field === -1 ? 0 : field;
        break;
      case "capadd":
        out["capAdd"] = field;
        break;
      case "readonlyrootfs":
        out["readOnlyRootfs"] = field;
        break;
      case "tmpfs":
        out["tmpfs"] = tmpfsSizes(field, path, cannot);
        break;
      case "securityopt": {
        const opts = Array.isArray(field) ? field : [field];
        const nnp = opts.every((o) => o === "no-new-privileges" || o === "no-new-privileges:true");
        if (!nnp) cannot(path, `only "no-new-privileges" maps to capsule`);
        else out["noNewPrivileges"] = true;
        break;
      }
      default:
        cannot(path);
    }
  }
  if (mounts.length > 0) out["mounts"] = mounts;
}

/** Docker's `{"/tmp": "size=64m,mode=1777"}`: capsule takes the size, which it requires. */
function tmpfsSizes(value: unknown, path: string, cannot: Cannot): Record<string, unknown> {
  const sizes: Record<string, unknown> = {};
  for (const [target, options] of Object.entries(isPlainObject(value) ? value : {})) {
    const size = typeof options === "string"
      ? options.split(",").find((o) => o.startsWith("size="))?.slice("size=".length)
      : undefined;
    if (size === undefined) cannot(`${path}.${target}`, `capsule needs a "size=" for each tmpfs`);
    else sizes[target] = size;
  }
  return sizes;
}
