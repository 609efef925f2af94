/**
 * A proxy of the engine of this run (`ENGINE_UNDER_TEST`) that a test can
 * cut and restore, to play an engine that goes away: `socat` from a unix
 * socket to the engine's socket, or, for the TLS engine, from a loopback
 * port to the engine's (TLS passes through, capsule still checks it).
 */
import { DEFAULT_SOCKET } from "../../src/runtime/engine_endpoint.ts";
import { dockerSettingsUnderTest, freePort } from "./test_engine.ts";

/** A proxy that a test can cut. */
export interface EngineProxy {
  /** capsule's `docker` settings to reach the engine through the proxy. */
  docker: { host: string; tls?: { ca: string; cert: string; key: string } };
  /** Starts the proxy (again). */
  restore(): Promise<void>;
  /** Kills the proxy and every connection it carries. */
  cut(): Promise<void>;
}

/**
 * A proxy of the engine under test, not started: nothing answers at its
 * address until `restore()`.
 *
 * @param dir where a unix socket may go
 */
export function engineProxy(dir: string): EngineProxy {
  const engine = dockerSettingsUnderTest() as {
    host?: string;
    tls?: { ca: string; cert: string; key: string };
  };
  const host = engine.host ?? "";
  let listen: string;
  let target: string;
  let docker: EngineProxy["docker"];
  let ready: () => Promise<boolean>;
  if (host.startsWith("tcp://")) {
    const url = new URL(host);
    const port = freePort();
    listen = `TCP-LISTEN:${port},bind=127.0.0.1,reuseaddr,fork`;
    target = `TCP:${url.hostname}:${url.port}`;
    docker = { host: `tcp://127.0.0.1:${port}`, ...(engine.tls ? { tls: engine.tls } : {}) };
    ready = () =>
      Deno.connect({ hostname: "127.0.0.1", port }).then((c) => {
        c.close();
        return true;
      }, () => false);
  } else {
    const path = `${dir}/engine.sock`;
    listen = `UNIX-LISTEN:${path},fork,unlink-early`;
    target = `UNIX-CONNECT:${host === "" ? DEFAULT_SOCKET : host.replace(/^unix:\/\//, "")}`;
    docker = { host: `unix://${path}` };
    ready = () => Deno.stat(path).then(() => true, () => false);
  }
  let child: Deno.ChildProcess | undefined;
  return {
    docker,
    async restore() {
      child = new Deno.Command("setsid", {
        args: ["socat", listen, target],
        stdout: "null",
        stderr: "null",
      }).spawn();
      for (let i = 0; i < 100; i++) {
        if (await ready()) return;
        await new Promise((r) => setTimeout(r, 50));
      }
      throw new Error("socat proxy did not come up");
    },
    async cut() {
      if (!child) return;
      // setsid made socat a group leader: the group holds its forked children too.
      await new Deno.Command("kill", { args: ["-KILL", "--", `-${child.pid}`] }).output();
      await child.status;
      child = undefined;
      if (docker.host.startsWith("unix://")) {
        await Deno.remove(docker.host.slice("unix://".length)).catch(() => {});
      }
    },
  };
}
