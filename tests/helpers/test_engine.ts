/**
 * The engines the end-to-end tests run against: the machine's Docker engine,
 * a Podman service (`podman system service`) on a private socket, and a
 * second `dockerd` on loopback with `--tlsverify`. Each is named by a kind;
 * `ENGINE_UNDER_TEST` names the one a test run is pointed at
 * (`tests/helpers/with_engine.ts` starts it and sets it).
 */
import type { EngineCerts } from "./engine_certs.ts";

/** The engines there are. */
export const ENGINE_KINDS = ["docker", "podman", "tls"] as const;
/** One of {@linkcode ENGINE_KINDS}. */
export type EngineKind = typeof ENGINE_KINDS[number];

/** A running engine a test can point capsule and the Docker CLI at. */
export interface TestEngine {
  kind: EngineKind;
  /** What the Docker CLI (and capsule, with `docker.host` empty) needs to reach it. */
  env: Record<string, string>;
  /** capsule's `docker` settings for it. */
  docker: { host: string; tls?: { ca: string; cert: string; key: string } };
  /** The TLS engine's certificates. */
  certs?: EngineCerts;
  /** What the engine logged so far. */
  log(): Promise<string>;
  /** Removes what the tests left, stops the engine and deletes its state. */
  stop(): Promise<void>;
}

/** Whether `name` is an engine kind. */
export function isEngineKind(name: string): name is EngineKind {
  return (ENGINE_KINDS as readonly string[]).includes(name);
}

/**
 * The engine this test run is pointed at: `ENGINE_UNDER_TEST` (`docker`
 * when unset). The Docker CLI and capsule reach it through `DOCKER_HOST`,
 * `DOCKER_TLS_VERIFY` and `DOCKER_CERT_PATH`, which the runner set.
 */
export function engineUnderTest(): EngineKind {
  const name = Deno.env.get("ENGINE_UNDER_TEST") ?? "docker";
  if (!isEngineKind(name)) {
    throw new Error(`ENGINE_UNDER_TEST="${name}" is not one of ${ENGINE_KINDS.join(", ")}`);
  }
  return name;
}

/**
 * capsule's `docker` settings for the engine of this run, from the
 * environment the runner set: `docker.host`, and for the TLS engine
 * `docker.tls` with the files of `DOCKER_CERT_PATH`. Empty for the machine's
 * own engine.
 */
export function dockerSettingsUnderTest(): Record<string, unknown> {
  const host = Deno.env.get("DOCKER_HOST");
  if (engineUnderTest() === "docker" || host === undefined) return {};
  const certs = Deno.env.get("DOCKER_CERT_PATH");
  if (Deno.env.get("DOCKER_TLS_VERIFY") && certs) {
    return {
      host,
      tls: { ca: `${certs}/ca.pem`, cert: `${certs}/cert.pem`, key: `${certs}/key.pem` },
    };
  }
  return { host };
}

/** Runs a command, failing with its output when it fails. */
export async function mustRun(
  args: string[],
  env: Record<string, string> = {},
): Promise<string> {
  const [command, ...rest] = args;
  const out = await new Deno.Command(command!, {
    args: rest,
    env,
    stdin: "null",
    stdout: "piped",
    stderr: "piped",
  }).output();
  const dec = new TextDecoder();
  if (out.code !== 0) {
    throw new Error(`${args.join(" ")} failed (${out.code}):\n${dec.decode(out.stderr)}`);
  }
  return dec.decode(out.stdout);
}

/**
 * Copies images from the machine's Docker engine into `engine`
 * (`docker save | docker load`).
 */
export async function loadImages(engine: TestEngine, images: string[]): Promise<void> {
  if (images.length === 0) return;
  const vars = Object.entries(engine.env).map(([k, v]) => `${k}=${shellQuote(v)}`).join(" ");
  await mustRun([
    "bash",
    "-c",
    `set -o pipefail; env -u DOCKER_HOST -u DOCKER_TLS_VERIFY -u DOCKER_CERT_PATH ` +
    `docker save "$@" | env ${vars} docker load -q`,
    "bash",
    ...images,
  ]);
}

function shellQuote(value: string): string {
  return `'${value.replaceAll("'", `'\\''`)}'`;
}

/** A free TCP port on 127.0.0.1. */
export function freePort(): number {
  const listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const port = (listener.addr as Deno.NetAddr).port;
  listener.close();
  return port;
}

/**
 * Spawns a long-running engine process with its output appended to `logFile`
 * (through `sh -c exec`, so the pid is the engine's own).
 */
export function spawnLogged(args: string[], logFile: string, env: Record<string, string> = {}) {
  return new Deno.Command("sh", {
    args: ["-c", `exec "$@" >>"$0" 2>&1`, logFile, ...args],
    env,
    stdin: "null",
    stdout: "null",
    stderr: "null",
  }).spawn();
}

/** Polls `ready` every 100 ms until it resolves true, or throws after `timeoutMs`. */
export async function waitUntil(
  ready: () => Promise<boolean>,
  what: string,
  timeoutMs = 30_000,
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await ready().catch(() => false))) {
    if (Date.now() > deadline) throw new Error(`${what} within ${timeoutMs / 1000} s`);
    await new Promise((r) => setTimeout(r, 100));
  }
}
