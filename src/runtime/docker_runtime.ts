// @ts-types="@types/dockerode"
import Docker from "dockerode";
import type { Duplex } from "node:stream";
import { CapsuleError, shellNotFound } from "../errors/mod.ts";
import { containerCreateOptions } from "./_container_create_options.ts";
import { DockerExecProcess, pidFileOf, wrappedCommand } from "./_docker_exec_process.ts";
import { DockerProcess } from "./_docker_process.ts";
import {
  engineErrorOf,
  engineMessage,
  isNameTaken,
  isNotRunning,
  isStoppingRace,
  isUnreachable,
  pingFailed,
  unreachable,
} from "./_engine_errors.ts";
import { type EngineTlsMaterial, readEngineTls } from "./_engine_tls.ts";
import { ExecOomJudge } from "./_exec_oom.ts";
import { hijack, type HijackTarget } from "./_hijack.ts";
import {
  DEFAULT_SOCKET,
  describeEndpoint,
  type EngineEndpoint,
  engineEndpoint,
  type EngineSettings,
} from "./engine_endpoint.ts";
import { ensureImage } from "./_ensure_image.ts";
import { hasImage, pullImage } from "./_pull_image.ts";
import { LABELS } from "./labels.ts";
import { ensureToolsVolume } from "./_tools_volume.ts";
import { TOOLS_BIN, type ToolSet } from "../tools/mod.ts";
import type {
  ContainerRuntime,
  ContainerSpec,
  ContainerSummary,
  EnsureImageOptions,
  ExecSpec,
  PullImageOptions,
  RunningProcess,
} from "./container_runtime.ts";

/**
 * dockerode's options for an endpoint, with the TLS material a `tcp://`
 * engine with TLS needs. Every setting is given, unset ones as `undefined`:
 * dockerode lays the options over what it reads from `DOCKER_HOST`,
 * `DOCKER_TLS_VERIFY` and `DOCKER_CERT_PATH` itself, so a key left out would
 * let the environment steer a `docker.host` elsewhere.
 */
export function dockerOptions(
  endpoint: EngineEndpoint,
  tls?: EngineTlsMaterial,
): Docker.DockerOptions {
  const none = {
    socketPath: undefined,
    host: undefined,
    port: undefined,
    protocol: "http",
    pathPrefix: undefined,
    username: undefined,
    ca: undefined,
    cert: undefined,
    key: undefined,
    timeout: undefined,
  };
  // `undefined` is the point here; dockerode's types do not allow it.
  const options = (set: Record<string, unknown>) => ({ ...none, ...set }) as Docker.DockerOptions;
  if (endpoint.kind === "socket") return options({ socketPath: endpoint.path });
  const address = { host: endpoint.host, port: endpoint.port };
  if (!endpoint.tls) return options(address);
  if (!tls) throw new TypeError(`The engine at ${describeEndpoint(endpoint)} needs its TLS files`);
  return options({ ...address, protocol: "https", ...tls });
}

/**
 * {@linkcode ContainerRuntime} on the Docker Engine API, through dockerode.
 * The only module that imports dockerode.
 */
export class DockerRuntime implements ContainerRuntime {
  readonly #docker: Docker;
  /** Whether `spec.disk` becomes a storage quota (see `enableDiskQuota`). */
  #diskQuota = false;
  /** The tools volume mounted into every container, once installed. */
  #toolsVolume: string | undefined;
  /** Each image's own PATH, looked up once. */
  readonly #imagePaths = new Map<string, Promise<string>>();

  /** The engine's address, for the operator's messages. */
  readonly #where: string;
  /** Where the hijacked connections go; capsule opens them itself (see `_hijack.ts`). */
  readonly #hijackTarget: HijackTarget;
  /** Whether an exec'd process that exited 137 was killed for memory. */
  readonly #execOom: ExecOomJudge;

  /**
   * @param endpoint where the engine listens (the local socket by default)
   * @param tls the PEM texts for an endpoint with TLS (see {@linkcode DockerRuntime.open})
   */
  constructor(
    endpoint: EngineEndpoint = { kind: "socket", path: DEFAULT_SOCKET },
    tls?: EngineTlsMaterial,
  ) {
    this.#docker = new Docker(dockerOptions(endpoint, tls));
    this.#where = describeEndpoint(endpoint);
    this.#hijackTarget = endpoint.kind === "socket"
      ? endpoint
      : { kind: "tcp", host: endpoint.host, port: endpoint.port, ...(tls ? { tls } : {}) };
    this.#execOom = new ExecOomJudge(this.#docker, (exec) => this.#startExec(exec, false));
  }

  /** Attaches to a container's stdin, stdout and stderr, before it starts; no request body. */
  #attach(container: Docker.Container): Promise<Duplex> {
    return hijack(this.#hijackTarget, {
      path: `/containers/${container.id}/attach?stream=1&stdin=1&stdout=1&stderr=1`,
    });
  }

  /** Starts an exec with its streams hijacked. */
  #startExec(exec: Docker.Exec, tty: boolean): Promise<Duplex> {
    return hijack(this.#hijackTarget, {
      path: `/exec/${exec.id}/start`,
      body: { Detach: false, Tty: tty },
    });
  }

  /**
   * The runtime for the engine that `docker.host` and `docker.tls` (or
   * `DOCKER_HOST`, `DOCKER_TLS_VERIFY` and `DOCKER_CERT_PATH`) name, its TLS
   * files read and checked.
   *
   * @param settings the config's `docker` section
   * @param env the environment (the process's by default)
   * @throws {TypeError} for an address capsule cannot use
   * @throws {CapsuleError} `ENGINE_TLS_INVALID` when a TLS file cannot be used
   * @example
   * const runtime = await DockerRuntime.open({ host: "tcp://10.0.0.5:2376", tls });
   */
  static async open(
    settings: EngineSettings,
    env: Record<string, string | undefined> = Deno.env.toObject(),
  ): Promise<DockerRuntime> {
    const endpoint = engineEndpoint(settings, env);
    const tls = endpoint.kind === "tcp" && endpoint.tls
      ? await readEngineTls(endpoint.tls)
      : undefined;
    return new DockerRuntime(endpoint, tls);
  }

  /** The engine's address: `unix:///var/run/docker.sock`, `tcp://10.0.0.5:2376`. */
  get where(): string {
    return this.#where;
  }

  async ping(): Promise<void> {
    try {
      await this.#docker.ping();
    } catch (error) {
      throw pingFailed(error, this.#where);
    }
  }

  ensureImage(image: string, options: EnsureImageOptions): Promise<void> {
    return ensureImage(this, image, options);
  }

  hasImage(image: string): Promise<boolean> {
    return hasImage(this.#docker, image);
  }

  pullImage(image: string, options?: PullImageOptions): Promise<void> {
    return pullImage(this.#docker, image, options);
  }

  /** Creates a container from `spec`; `attached` keeps stdin open for one attach only. */
  async #create(spec: ContainerSpec, attached: boolean): Promise<Docker.Container> {
    try {
      return await this.#docker.createContainer(
        containerCreateOptions(await this.#withTools(spec), attached, {
          diskQuota: this.#diskQuota,
          ...(this.#toolsVolume ? { toolsVolume: this.#toolsVolume } : {}),
        }),
      );
    } catch (error) {
      if (isUnreachable(error)) throw unreachable(error);
      if (isNameTaken(error)) {
        throw new CapsuleError(
          "NAME_IN_USE",
          "Cannot create a container: its name is taken",
          { cause: error },
        );
      }
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
      const socket = await this.#attach(container);
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
      this.#execOom.started(container.id);
      return container.id;
    } catch (error) {
      throw await this.#startFailed(container, spec, error);
    }
  }

  async exec(containerId: string, spec: ExecSpec): Promise<RunningProcess> {
    const container = this.#docker.getContainer(containerId);
    const pidFile = pidFileOf(spec);
    const startedMs = Date.now();
    try {
      const exec = await container.exec({
        // The wrapper records its pid and then becomes the command.
        Cmd: wrappedCommand(spec, pidFile),
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
      const socket = await this.#startExec(exec, spec.tty);
      const process = new DockerExecProcess({
        container,
        exec,
        socket,
        spec,
        pidFile,
        oomKilled: () => this.#execOom.oomKilled(containerId, spec, startedMs),
      });
      if (spec.tty && spec.size) await process.resize(spec.size).catch(() => {});
      return process;
    } catch (error) {
      if (isUnreachable(error)) throw unreachable(error);
      if (isNotRunning(error)) throw await this.#whyGone(container, spec, error);
      throw new CapsuleError("EXEC_FAILED", "Cannot start the session in its container", {
        cause: error,
      });
    }
  }

  /**
   * The error for an exec into a container that is not running. A container
   * whose shell is missing dies at birth: that is a configuration error to
   * report as such, not a container to replace. docker-init exits 127 then;
   * Podman's catatonit exits 1, and its line went nowhere (no engine log),
   * so there the shell's absence from the container's files decides.
   */
  async #whyGone(container: Docker.Container, spec: ExecSpec, cause: unknown) {
    const info = await container.inspect().catch(() => undefined);
    if (info?.State?.Running === false && info.State.ExitCode !== 0) {
      const code = info.State.ExitCode;
      if (code === 127 || !(await hasFile(container, spec.shell))) {
        return shellNotFound(spec.shell, info.Config.Image, { cause });
      }
    }
    return new CapsuleError(
      "CONTAINER_GONE",
      "Cannot start the session: its container is no longer running",
      { cause },
    );
  }

  async remove(containerId: string): Promise<void> {
    this.#execOom.forget(containerId);
    for (let attempt = 1;; attempt++) {
      try {
        await this.#docker.getContainer(containerId).remove({ force: true, v: true });
        return;
      } catch (error) {
        const status = engineErrorOf(error).statusCode;
        // 404: already gone; 409: a removal is already in progress.
        if (status === 404 || status === 409) return;
        if (!isStoppingRace(error) || attempt === REMOVE_ATTEMPTS) throw error;
        await new Promise((resolve) => setTimeout(resolve, 50 * 2 ** attempt));
      }
    }
  }

  async list(
    labels: Record<string, string>,
    options: { size?: boolean } = {},
  ): Promise<ContainerSummary[]> {
    const filter = Object.entries(labels).map(([k, v]) => `${k}=${v}`);
    const found = await this.#docker.listContainers({
      all: true,
      size: options.size === true,
      filters: JSON.stringify({ label: filter }),
    });
    // @types/dockerode leaves out SizeRw, which the engine sends when asked for sizes.
    return found.map((c: Docker.ContainerInfo & { SizeRw?: number }) => ({
      id: c.Id,
      labels: c.Labels ?? {},
      createdMs: c.Created * 1000,
      running: c.State === "running",
      ...(typeof c.SizeRw === "number" ? { sizeRw: c.SizeRw } : {}),
    }));
  }

  async installTools(tools: ToolSet, image: string): Promise<string> {
    try {
      this.#toolsVolume = await ensureToolsVolume(this.#docker, tools, image);
    } catch (error) {
      if (isUnreachable(error)) throw unreachable(error);
      throw error;
    }
    return this.#toolsVolume;
  }

  /** `spec` with the tools' folder last in PATH (the image's PATH, unless the operator set one). */
  async #withTools(spec: ContainerSpec): Promise<ContainerSpec> {
    if (!this.#toolsVolume || spec.env.some((e) => e.startsWith("PATH="))) return spec;
    let path = this.#imagePaths.get(spec.image);
    if (!path) {
      path = imagePath(this.#docker, spec.image);
      this.#imagePaths.set(spec.image, path);
      path.catch(() => this.#imagePaths.delete(spec.image));
    }
    return { ...spec, env: [...spec.env, `PATH=${await path}:${TOOLS_BIN}`] };
  }

  async enableDiskQuota(image: string): Promise<boolean> {
    // A created (never started) container is enough: the engine refuses the
    // option at creation when its storage driver has no quotas.
    let probe: Docker.Container;
    try {
      probe = await this.#docker.createContainer({
        Image: image,
        Cmd: ["true"],
        Labels: { [LABELS.managed]: "true", [LABELS.mode]: "probe" },
        HostConfig: { StorageOpt: { size: "64m" }, LogConfig: { Type: "none", Config: {} } },
      });
    } catch (error) {
      // "--storage-opt is supported only for overlay over xfs with 'pquota'"
      // and its kin; anything else (no such image, no engine) says nothing.
      if (/storage.?opt|quota/i.test(engineMessage(error))) return false;
      throw isUnreachable(error) ? unreachable(error) : error;
    }
    await probe.remove({ force: true }).catch(() => {});
    this.#diskQuota = true;
    return true;
  }
}

/**
 * Whether `path` is in a container's files (running or not), as the engine's
 * archive API sees it; `true` when the engine does not say it is absent.
 */
async function hasFile(container: Docker.Container, path: string): Promise<boolean> {
  try {
    await container.infoArchive({ path });
    return true;
  } catch (error) {
    return engineErrorOf(error).statusCode !== 404;
  }
}

/** How often a removal is tried while the container is stopping (100 to 800 ms apart). */
const REMOVE_ATTEMPTS = 5;

/** The engine's PATH when an image sets none. */
const DEFAULT_PATH = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin";

/** The PATH an image's processes get. */
async function imagePath(docker: Docker, image: string): Promise<string> {
  const info = await docker.getImage(image).inspect();
  const env: string[] = info.Config?.Env ?? [];
  const path = env.find((e) => e.startsWith("PATH="));
  return path ? path.slice("PATH=".length) : DEFAULT_PATH;
}
