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
      loginTimeout: 60,
      maxAuthTries: 6,
      maxStartups: "10:30:100",
      maxStartupsPerSource: 8,
      maxSessions: 10,
      idleTimeout: 300,
      keepaliveInterval: 15,
      keepaliveCountMax: 3,
      penalties: { enabled: true, authFail: 5, noAuth: 1, loginTimeout: 10, min: 15, max: 600 },
      instance: "",
      drainTimeout: 30,
      sweepInterval: 60,
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
      capAdd: [],
      noNewPrivileges: true,
      privileged: false,
      idleTimeout: 0,
      maxSessionTime: 0,
      mode: "session",
      gracePeriod: 60,
      maxLifetime: 0,
      pool: { size: 0 },
    },
    users: {},
    unsafe: { privileged: false, hostNamespaces: false, engineSocket: false },
  };
}
