import type { Config } from "./types.ts";

/**
 * The built-in configuration, the lowest layer under the file, the
 * environment and the flags. Safe by default: loopback only, no network in
 * containers, modest limits, no users.
 *
 * @returns a fresh object each call, so callers may change it
 */
export function defaultConfig(): Config {
  return {
    server: {
      listen: "127.0.0.1:2222",
      hostKeys: [],
      stateDir: "~/.local/state/capsule",
      banner: "",
    },
    log: { level: "info", format: "auto" },
    auth: { anyUserKeysFiles: [] },
    session: { envAllow: ["LANG", "LC_*"] },
    docker: { host: "" },
    container: {
      image: "busybox",
      pull: "if-not-present",
      shell: "/bin/sh",
      env: {},
      mounts: [],
      workdir: "",
      user: "",
      memory: 512 * 2 ** 20,
      cpus: 1,
      pids: 256,
      network: "none",
      hostname: "capsule",
    },
    users: {},
  };
}
