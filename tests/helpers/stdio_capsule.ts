/**
 * capsule's `serve --stdio` for end-to-end tests: a config with the `demo`
 * user, the shell command that runs one such process (as an OpenSSH
 * `ProxyCommand` or under an inetd-style launcher), and its log, which every
 * process of one set-up appends to one file.
 */
import { stringify } from "yaml";
import { deepMerge, serveArgs } from "./capsule_process.ts";
import { capsuleContainers } from "./docker.ts";
import { DEMO_PASSWORD, demoPasswordHash } from "./demo_capsule.ts";
import type { Login } from "./ssh_client.ts";

const ROOT = new URL("../../", import.meta.url).pathname;

/** A config for `serve --stdio` processes, and where they log. */
export interface StdioSetup {
  dir: string;
  configFile: string;
  /** The `server.instance` every process of this set-up shares. */
  instance: string;
  /** Every process's stderr, appended. */
  logFile: string;
  /** Each process's pid, one a line, as it starts. */
  pidFile: string;
  /** The processes' log records so far. */
  logs(): Promise<Record<string, unknown>[]>;
  /** Removes the directory. */
  /** Removes the directory, and any container of the instance a failed test left. */
  remove(): Promise<void>;
}

/** Writes a config with the `demo` user (penalties off) and `config` merged over it. */
export async function stdioSetup(config: Record<string, unknown> = {}): Promise<StdioSetup> {
  const dir = await Deno.makeTempDir({ prefix: "capsule-stdio-" });
  const instance = `stdio-${crypto.randomUUID().slice(0, 8)}`;
  const merged = deepMerge({
    server: { stateDir: `${dir}/state`, instance, penalties: { enabled: false } },
    log: { level: "debug", format: "json" },
    users: { demo: { passwordHash: await demoPasswordHash() } },
  }, config);
  const configFile = `${dir}/config.yaml`;
  await Deno.writeTextFile(configFile, stringify(merged));
  const logFile = `${dir}/capsule.log`;
  return {
    dir,
    configFile,
    instance,
    logFile,
    pidFile: `${dir}/pids`,
    async logs() {
      let text = "";
      try {
        text = await Deno.readTextFile(logFile);
      } catch {
        return [];
      }
      return text.split("\n").flatMap((line) => {
        try {
          return [JSON.parse(line)];
        } catch {
          return [];
        }
      });
    },
    remove: async () => {
      // A test that failed midway may leave its processes' containers: they go with it.
      const left = await capsuleContainers(instance).catch(() => []);
      if (left.length > 0) {
        await new Deno.Command("docker", {
          args: ["rm", "-f", ...left],
          stdout: "null",
          stderr: "null",
        })
          .output();
      }
      await Deno.remove(dir, { recursive: true }).catch(() => {});
    },
  };
}

const quote = (arg: string) => `'${arg.replaceAll("'", `'\\''`)}'`;

/**
 * The `sh -c` command line of one `capsule serve --stdio` process of `setup`:
 * it records its pid, then becomes `deno run ... main.ts serve --stdio`.
 */
export function stdioShellCommand(setup: StdioSetup): string {
  const deno = [Deno.execPath(), ...serveArgs(setup.configFile), "--stdio"].map(quote).join(" ");
  return `cd ${quote(ROOT)} && echo $$ >> ${quote(setup.pidFile)} && exec ${deno} 2>> ${
    quote(setup.logFile)
  }`;
}

/** The `demo` login through a `ProxyCommand` that runs capsule itself. */
export function proxyLogin(setup: StdioSetup): { login: Login; args: string[] } {
  return {
    login: { port: 22, user: "demo", password: DEMO_PASSWORD },
    // OpenSSH runs "exec <ProxyCommand>" with the user's shell.
    args: ["-o", `ProxyCommand=sh -c ${quote(stdioShellCommand(setup))}`],
  };
}

/** The pids the processes of `setup` recorded, in order. */
export async function stdioPids(setup: StdioSetup): Promise<number[]> {
  try {
    return (await Deno.readTextFile(setup.pidFile)).split("\n").filter(Boolean).map(Number);
  } catch {
    return [];
  }
}
