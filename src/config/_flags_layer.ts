import { _setIn, type Layer } from "./_layer.ts";
import type { ConfigFlags } from "./config_flags.ts";

const FLAGS: readonly { key: keyof ConfigFlags; flag: string; path: string[] }[] = [
  { key: "listen", flag: "--listen", path: ["server", "listen"] },
  { key: "hostKeys", flag: "--host-key", path: ["server", "hostKeys"] },
  { key: "stateDir", flag: "--state-dir", path: ["server", "stateDir"] },
  { key: "logLevel", flag: "--log-level", path: ["log", "level"] },
  { key: "logFormat", flag: "--log-format", path: ["log", "format"] },
];

/** The layer set by command-line flags; relative paths are resolved against `cwd`. */
export function _flagsLayer(flags: ConfigFlags, cwd: string): Layer {
  const raw: Record<string, unknown> = {};
  for (const { key, path } of FLAGS) {
    const value = flags[key];
    if (value !== undefined) _setIn(raw, path, Array.isArray(value) ? [...value] : value);
  }
  const locate = (path: readonly (string | number)[]) => {
    const index = FLAGS.findIndex((f) => f.path.every((segment, i) => path[i] === segment));
    return { where: index < 0 ? "flags" : `flag ${FLAGS[index]!.flag}`, order: index };
  };
  return { raw, baseDir: cwd, locate };
}
