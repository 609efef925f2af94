// @ts-types="@types/dockerode"
import Docker from "dockerode";
import type { Duplex } from "node:stream";
import { CapsuleError } from "../errors/mod.ts";
import type {
  ContainerRuntime,
  ContainerSpec,
  ContainerSummary,
  EnsureImageOptions,
  ExecSpec,
  ExitResult,
  OutputChunk,
  RunningProcess,
} from "./container_runtime.ts";
import { demuxDockerStream } from "./demux_docker_stream.ts";

/** An error from dockerode's HTTP layer. */
interface EngineError {
  statusCode?: number;
  code?: string;
  json?: { message?: string } | null;
  message?: string;
}

function engineErrorOf(error: unknown): EngineError {
  return (typeof error === "object" && error !== null ? error : {}) as EngineError;
}

/** The engine's own message, or the transport error's. */
export function engineMessage(error: unknown): string {
  const e = engineErrorOf(error);
  return e.json?.message ?? e.message ?? String(error);
}

const UNREACHABLE_CODES = new Set(["ECONNREFUSED", "ENOENT", "ECONNRESET", "EPIPE", "ETIMEDOUT"]);

function isUnreachable(error: unknown): boolean {
  const e = engineErrorOf(error);
  return (e.code !== undefined && UNREACHABLE_CODES.has(e.code)) ||
    /connect|socket hang up|ENOENT|ECONNREFUSED/i.test(e.message ?? "");
}

function unreachable(error: unknown): CapsuleError {
  return new CapsuleError(
    "ENGINE_UNREACHABLE",
    "Cannot start a container: the container engine is not reachable",
    { cause: error },
  );
}

/**
 * Turns a `docker.host` setting (`unix:///path`, `tcp://host:port`) into
 * dockerode options; empty means dockerode's defaults (`DOCKER_HOST`, then the
 * usual sockets).
 */
export function dockerOptions(host: string): Docker.DockerOptions | undefined {
  if (host === "") return undefined;
  if (host.startsWith("unix://")) return { socketPath: host.slice("unix://".length) };
  if (host.startsWith("/")) return { socketPath: host };
  const url = new URL(host.includes("://") ? host : `tcp://${host}`);
  if (url.protocol !== "tcp:" && url.protocol !== "http:") {
    throw new TypeError(`Unsupported Docker host "${host}": use unix:///path or tcp://host:port`);
  }
  return { protocol: "http", host: url.hostname, port: url.port || "2375" };
}

/** Waits until a Node writable can take more, or fails when it closes first. */
function drained(stream: Duplex): Promise<void> {
  return new Promise((resolve, reject) => {
    const done = () => {
      stream.off("drain", done);
      stream.off("close", closed);
      resolve();
    };
    const closed = () => {
      stream.off("drain", done);
      reject(new Error("Container stdin closed"));
    };
    stream.once("drain", done);
    stream.once("close", closed);
  });
}

/**
 * {@linkcode ContainerRuntime} on the Docker Engine API, through dockerode.
 * The only module that imports dockerode.
 */
export class DockerRuntime implements ContainerRuntime {
  readonly #docker: Docker;

  /** @param host engine address; empty for `DOCKER_HOST` or the default socket */
  constructor(host = "") {
    this.#docker = new Docker(dockerOptions(host));
  }

  async ping(): Promise<void> {
    try {
      await this.#docker.ping();
    } catch (error) {
      throw unreachable(error);
    }
  }

  async ensureImage(image: string, options: EnsureImageOptions): Promise<void> {
    if (options.policy !== "always" && await this.#hasImage(image)) return;
    if (options.policy === "never") {
      throw new CapsuleError(
        "IMAGE_NOT_FOUND",
        `Cannot start a container: image "${image}" is not present and pulling is disabled`,
      );
    }
    try {
      await this.#pull(image);
    } catch (error) {
      if (isUnreachable(error)) throw unreachable(error);
      // With "always", a failed pull of an image that is present is not fatal.
      if (options.policy === "always" && await this.#hasImage(image)) return;
      throw new CapsuleError(
        "IMAGE_NOT_FOUND",
        `Cannot start a container: image "${image}" not found and could not be pulled`,
        { cause: error },
      );
    }
  }

  async #hasImage(image: string): Promise<boolean> {
    try {
      await this.#docker.getImage(image).inspect();
      return true;
    } catch (error) {
      if (engineErrorOf(error).statusCode === 404) return false;
      if (isUnreachable(error)) throw unreachable(error);
      throw error;
    }
  }

  async #pull(image: string): Promise<void> {
    const stream = await this.#docker.pull(image);
    await new Promise<void>((resolve, reject) => {
      this.#docker.modem.followProgress(stream, (error: Error | null, events: unknown[]) => {
        const failed = events?.find((e) => typeof e === "object" && e !== null && "error" in e) as {
          error?: string;
        } | undefined;
        if (error) reject(error);
        else if (failed?.error) reject(new Error(failed.error));
        else resolve();
      });
    });
  }

  /** Creates a container from `spec`; `attached` keeps stdin open for one attach only. */
  async #create(spec: ContainerSpec, attached: boolean): Promise<Docker.Container> {
    try {
      return await this.#docker.createContainer({
        name: spec.name,
        Image: spec.image,
        Cmd: spec.cmd,
        Env: spec.env,
        Tty: spec.tty,
        OpenStdin: true,
        // A detached container keeps its stdin open with nobody attached.
        StdinOnce: attached,
        AttachStdin: attached,
        AttachStdout: attached,
        AttachStderr: attached,
        Labels: spec.labels,
        WorkingDir: spec.workdir,
        User: spec.user,
        Hostname: spec.hostname,
        HostConfig: {
          // docker-init as PID 1 forwards signals and reaps zombies.
          Init: true,
          AutoRemove: false,
          NetworkMode: spec.network,
          Memory: spec.memory,
          // Equal to Memory: no swap on top of the memory limit.
          MemorySwap: spec.memory,
          NanoCpus: Math.round(spec.cpus * 1e9),
          PidsLimit: spec.pids > 0 ? spec.pids : null,
          Binds: spec.mounts.map((m) => `${m.source}:${m.target}${m.readOnly ? ":ro" : ""}`),
          // Locked down by default: no capabilities, no privilege gain, the
          // engine's default seccomp profile, and no engine log of the session.
          CapDrop: ["ALL"],
          CapAdd: spec.capAdd,
          SecurityOpt: spec.noNewPrivileges ? ["no-new-privileges"] : [],
          Privileged: spec.privileged,
          LogConfig: { Type: "none", Config: {} },
        } as Docker.HostConfig,
      });
    } catch (error) {
      if (isUnreachable(error)) throw unreachable(error);
      throw new CapsuleError(
        "CONTAINER_CREATE_FAILED",
        `Cannot create a container from image "${spec.image}"`,
        { cause: error },
      );
    }
  }

  /** Removes a container that failed to start and says why it failed. */
  async #startFailed(container: Docker.Container, spec: ContainerSpec, error: unknown) {
    await this.remove(container.id).catch(() => {});
    if (isUnreachable(error)) return unreachable(error);
    return new CapsuleError(
      "CONTAINER_START_FAILED",
      `Cannot start a container from image "${spec.image}"`,
      { cause: error },
    );
  }

  async run(spec: ContainerSpec): Promise<RunningProcess> {
    const container = await this.#create(spec, true);
    try {
      // Attach before start, or the output of a fast command is lost.
      const socket = await container.attach({
        stream: true,
        stdin: true,
        stdout: true,
        stderr: true,
        hijack: true,
      }) as unknown as Duplex;
      try {
        await container.start();
      } catch (error) {
        socket.destroy();
        throw error;
      }
      const process = new DockerProcess(container, socket, spec.tty);
      if (spec.tty && spec.size) await process.resize(spec.size).catch(() => {});
      return process;
    } catch (error) {
      throw await this.#startFailed(container, spec, error);
    }
  }

  async start(spec: ContainerSpec): Promise<string> {
    const container = await this.#create(spec, false);
    try {
      await container.start();
      return container.id;
    } catch (error) {
      throw await this.#startFailed(container, spec, error);
    }
  }

  async exec(containerId: string, spec: ExecSpec): Promise<RunningProcess> {
    const container = this.#docker.getContainer(containerId);
    const pidFile = `/tmp/.capsule-${spec.id}.pid`;
    try {
      const exec = await container.exec({
        // The wrapper records its pid and then becomes the command.
        Cmd: [spec.shell, "-c", spec.tty ? RECORD_PID_TTY : RECORD_PID, pidFile, ...spec.cmd],
        Env: spec.env,
        Tty: spec.tty,
        AttachStdin: true,
        AttachStdout: true,
        AttachStderr: true,
        ...(spec.workdir !== "" ? { WorkingDir: spec.workdir } : {}),
        ...(spec.user !== "" ? { User: spec.user } : {}),
        // Honoured from API 1.42 on (sized before the process starts); ignored before.
        ...(spec.tty && spec.size ? { ConsoleSize: [spec.size.rows, spec.size.cols] } : {}),
      });
      const socket = await exec.start({ hijack: true, stdin: true, Tty: spec.tty }) as Duplex;
      const process = new DockerExecProcess(container, exec, socket, spec, pidFile);
      if (spec.tty && spec.size) await process.resize(spec.size).catch(() => {});
      return process;
    } catch (error) {
      if (isUnreachable(error)) throw unreachable(error);
      const status = engineErrorOf(error).statusCode;
      if (status === 404 || status === 409) {
        throw new CapsuleError(
          "CONTAINER_GONE",
          "Cannot start the session: its container is no longer running",
          { cause: error },
        );
      }
      throw new CapsuleError("EXEC_FAILED", "Cannot start the session in its container", {
        cause: error,
      });
    }
  }

  async remove(containerId: string): Promise<void> {
    try {
      await this.#docker.getContainer(containerId).remove({ force: true, v: true });
    } catch (error) {
      const status = engineErrorOf(error).statusCode;
      // 404: already gone; 409: a removal is already in progress.
      if (status === 404 || status === 409) return;
      throw error;
    }
  }

  async list(labels: Record<string, string>): Promise<ContainerSummary[]> {
    const filter = Object.entries(labels).map(([k, v]) => `${k}=${v}`);
    const found = await this.#docker.listContainers({
      all: true,
      filters: JSON.stringify({ label: filter }),
    });
    return found.map((c: Docker.ContainerInfo) => ({
      id: c.Id,
      labels: c.Labels ?? {},
      createdMs: c.Created * 1000,
    }));
  }
}

class DockerProcess implements RunningProcess {
  readonly containerId: string;
  readonly output: AsyncIterable<OutputChunk>;
  readonly #container: Docker.Container;
  readonly #socket: Duplex;
  #exit: Promise<ExitResult> | undefined;

  constructor(container: Docker.Container, socket: Duplex, tty: boolean) {
    this.containerId = container.id;
    this.#container = container;
    this.#socket = socket;
    const source = endOnError(socket as AsyncIterable<Uint8Array>);
    this.output = tty ? ttyOutput(source) : demuxDockerStream(source);
  }

  async writeStdin(data: Uint8Array): Promise<void> {
    if (this.#socket.writableEnded || this.#socket.destroyed) return;
    if (!this.#socket.write(data)) await drained(this.#socket);
  }

  closeStdin(): Promise<void> {
    if (!this.#socket.writableEnded && !this.#socket.destroyed) this.#socket.end();
    return Promise.resolve();
  }

  async resize(size: { cols: number; rows: number }): Promise<void> {
    await this.#container.resize({ h: size.rows, w: size.cols });
  }

  async signal(name: string): Promise<void> {
    await this.#container.kill({ signal: name });
  }

  close(): Promise<void> {
    this.#socket.destroy();
    return Promise.resolve();
  }

  wait(): Promise<ExitResult> {
    this.#exit ??= this.#waitForExit();
    return this.#exit;
  }

  async #waitForExit(): Promise<ExitResult> {
    // Called once the output has ended, so the container has stopped (or is
    // about to): "not-running" answers at once with its exit code.
    let result: { StatusCode: number };
    try {
      result = await this.#container.wait({ condition: "not-running" });
    } catch (error) {
      this.#socket.destroy();
      throw new CapsuleError(
        "ENGINE_LOST",
        isUnreachable(error)
          ? "Session ended: the connection to the container engine was lost"
          : "Session ended: the container engine did not report an exit status",
        { cause: error },
      );
    }
    let oomKilled = false;
    if (result.StatusCode === 137) {
      const info = await this.#container.inspect().catch(() => undefined);
      oomKilled = info?.State?.OOMKilled === true;
    }
    this.#socket.destroy();
    return { code: result.StatusCode, oomKilled };
  }
}

/** Ends the iteration quietly when the attach socket fails: `wait()` then tells why. */
async function* endOnError(source: AsyncIterable<Uint8Array>): AsyncGenerator<Uint8Array> {
  try {
    yield* source;
  } catch {
    return;
  }
}

async function* ttyOutput(source: AsyncIterable<Uint8Array>): AsyncGenerator<OutputChunk> {
  for await (const data of source) yield { stream: "stdout", data };
}

/** `sh -c RECORD_PID <pid file> <command...>`: writes the shell's pid, then execs the command. */
const RECORD_PID = `{ echo $$ > "$0"; } 2>/dev/null; exec "$@"`;
/**
 * RECORD_PID for a TTY: engines before API 1.42 size an exec's TTY only after
 * it started, so the command could see 0x0 (`stty size` fails in a fresh
 * `docker exec -t`). This waits up to a second for the size first.
 */
const RECORD_PID_TTY = `{ echo $$ > "$0"; } 2>/dev/null
if command -v stty >/dev/null 2>&1; then
  n=0
  while [ $n -lt 100 ]; do
    case "$(stty size 2>/dev/null)" in
      "" | "0 0") sleep 0.01 2>/dev/null || break; n=$((n + 1)) ;;
      *) break ;;
    esac
  done
fi
exec "$@"`;
/** `sh -c SIGNAL_PID <pid file> <signal>`: signals the recorded pid. */
const SIGNAL_PID = `kill -s "$1" "$(cat "$0")"`;
/** `sh -c HANG_UP <pid file>`: hangs up the recorded pid and forgets it. */
const HANG_UP = `kill -s HUP "$(cat "$0")" 2>/dev/null; rm -f "$0"`;
/** `sh -c FORGET_PID <pid file>`: removes the pid file of a process that ended. */
const FORGET_PID = `rm -f "$0"`;

/** How long an exec may still report "running" after its output ended. */
const EXEC_EXIT_WAIT_MS = 5_000;

/** A process exec'd into a running container. */
class DockerExecProcess implements RunningProcess {
  readonly containerId: string;
  readonly output: AsyncIterable<OutputChunk>;
  readonly #container: Docker.Container;
  readonly #exec: Docker.Exec;
  readonly #socket: Duplex;
  readonly #spec: ExecSpec;
  readonly #pidFile: string;
  #exit: Promise<ExitResult> | undefined;
  #exited = false;
  #closed = false;

  constructor(
    container: Docker.Container,
    exec: Docker.Exec,
    socket: Duplex,
    spec: ExecSpec,
    pidFile: string,
  ) {
    this.containerId = container.id;
    this.#container = container;
    this.#exec = exec;
    this.#socket = socket;
    this.#spec = spec;
    this.#pidFile = pidFile;
    const source = endOnError(socket as AsyncIterable<Uint8Array>);
    this.output = spec.tty ? ttyOutput(source) : demuxDockerStream(source);
  }

  async writeStdin(data: Uint8Array): Promise<void> {
    if (this.#socket.writableEnded || this.#socket.destroyed) return;
    if (!this.#socket.write(data)) await drained(this.#socket);
  }

  closeStdin(): Promise<void> {
    // The engine drops a TTY exec's output once its stdin is half-closed; a
    // terminal has no EOF of its own anyway (sshd ignores one on a PTY too).
    if (this.#spec.tty) return Promise.resolve();
    if (!this.#socket.writableEnded && !this.#socket.destroyed) this.#socket.end();
    return Promise.resolve();
  }

  async resize(size: { cols: number; rows: number }): Promise<void> {
    await this.#exec.resize({ h: size.rows, w: size.cols });
  }

  async signal(name: string): Promise<void> {
    if (!/^[A-Z0-9]+$/.test(name)) throw new TypeError(`Bad signal name "${name}"`);
    await this.#run(SIGNAL_PID, name);
  }

  /** Runs a helper script (one of the constants above) next to the process, detached. */
  async #run(script: string, ...args: string[]): Promise<void> {
    const helper = await this.#container.exec({
      Cmd: [this.#spec.shell, "-c", script, this.#pidFile, ...args],
      ...(this.#spec.user !== "" ? { User: this.#spec.user } : {}),
    });
    await helper.start({ Detach: true });
  }

  wait(): Promise<ExitResult> {
    this.#exit ??= this.#waitForExit();
    return this.#exit;
  }

  async #waitForExit(): Promise<ExitResult> {
    // Called once the output has ended; the exec's end is recorded a moment later.
    const deadline = Date.now() + EXEC_EXIT_WAIT_MS;
    try {
      while (true) {
        const info = await this.#exec.inspect();
        if (!info.Running && info.ExitCode !== null) {
          this.#exited = true;
          return { code: info.ExitCode, oomKilled: false };
        }
        if (Date.now() > deadline) throw new Error("the exec still reports running");
        await new Promise((resolve) => setTimeout(resolve, 10));
      }
    } catch (error) {
      this.#socket.destroy();
      throw new CapsuleError(
        "ENGINE_LOST",
        isUnreachable(error)
          ? "Session ended: the connection to the container engine was lost"
          : "Session ended: the container engine did not report an exit status",
        { cause: error },
      );
    }
  }

  async close(options: { containerGoing?: boolean } = {}): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    this.#socket.destroy();
    if (options.containerGoing) return;
    await this.#run(this.#exited ? FORGET_PID : HANG_UP).catch(() => {});
  }
}
