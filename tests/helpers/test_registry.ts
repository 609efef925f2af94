/**
 * A private image registry for end-to-end tests and the bench: Debian's
 * `docker-registry`, started here on a loopback port with its own config,
 * storage and htpasswd file (bcrypt, made by `htpasswd -B`), and stopped
 * after. Docker talks plain HTTP to registries on 127.0.0.0/8.
 */
import { freePort } from "./background.ts";

/** The image the registry serves: Debian's minbase, built by `scripts/setup.sh --test`. */
export const MINBASE_IMAGE = "capsule-test-minbase:latest";

async function run(
  command: string[],
  env: Record<string, string> = {},
): Promise<{ code: number; out: string }> {
  const [program, ...args] = command;
  const output = await new Deno.Command(program!, {
    args,
    env,
    stdin: "null",
    stdout: "piped",
    stderr: "piped",
  }).output();
  const text = new TextDecoder();
  return { code: output.code, out: text.decode(output.stdout) + text.decode(output.stderr) };
}

async function mustRun(command: string[], env: Record<string, string> = {}): Promise<string> {
  const { code, out } = await run(command, env);
  if (code !== 0) throw new Error(`${command.join(" ")} failed (${code}): ${out}`);
  return out;
}

/** A running registry that wants `username` and `password`. */
export class TestRegistry {
  readonly port: number;
  readonly dir: string;
  readonly username: string;
  readonly password: string;
  readonly #child: Deno.ChildProcess;
  readonly #reading: Promise<void>;
  #log = "";

  private constructor(
    options: { port: number; dir: string; username: string; password: string },
    child: Deno.ChildProcess,
  ) {
    this.port = options.port;
    this.dir = options.dir;
    this.username = options.username;
    this.password = options.password;
    this.#child = child;
    // Its log on stderr, its access log on stdout: both kept.
    const keep = (stream: ReadableStream<Uint8Array>) =>
      stream.pipeThrough(new TextDecoderStream()).pipeTo(
        new WritableStream({ write: (chunk) => void (this.#log += chunk) }),
      ).catch(() => {});
    this.#reading = Promise.all([keep(child.stderr), keep(child.stdout)]).then(() => {});
  }

  /** `127.0.0.1:<port>`, as image references name it. */
  get host(): string {
    return `127.0.0.1:${this.port}`;
  }

  /** Everything the registry logged, its access log included. */
  get log(): string {
    return this.#log;
  }

  /** How many times a blob of `repository` was fetched so far. */
  blobFetches(repository: string): number {
    const pattern = new RegExp(`"GET /v2/${repository}/blobs/sha256:[0-9a-f]+ HTTP`, "g");
    return this.#log.match(pattern)?.length ?? 0;
  }

  /** Starts a registry with htpasswd authentication on a free loopback port. */
  static async start(username: string, password: string): Promise<TestRegistry> {
    const dir = await Deno.makeTempDir({ prefix: "capsule-registry-" });
    const port = freePort();
    const hash = await mustRun(["htpasswd", "-nbB", username, password]);
    await Deno.writeTextFile(`${dir}/htpasswd`, hash.trim() + "\n");
    await Deno.writeTextFile(
      `${dir}/config.yml`,
      [
        "version: 0.1",
        "log:",
        "  level: info",
        "storage:",
        "  filesystem:",
        `    rootdirectory: ${dir}/data`,
        "http:",
        `  addr: 127.0.0.1:${port}`,
        "auth:",
        "  htpasswd:",
        "    realm: capsule-test",
        `    path: ${dir}/htpasswd`,
        "",
      ].join("\n"),
    );
    const child = new Deno.Command("docker-registry", {
      args: ["serve", `${dir}/config.yml`],
      stdin: "null",
      stdout: "piped",
      stderr: "piped",
    }).spawn();
    const registry = new TestRegistry({ port, dir, username, password }, child);
    const deadline = Date.now() + 15_000;
    while (true) {
      try {
        const response = await fetch(`http://${registry.host}/v2/`);
        await response.arrayBuffer();
        // 401: it answers, and wants a login.
        if (response.status === 401) break;
        throw new Error(`docker-registry answered ${response.status} without a login`);
      } catch (error) {
        if (!(error instanceof TypeError)) {
          await registry.stop();
          throw error;
        }
        // Not listening yet.
      }
      if (Date.now() > deadline) {
        await registry.stop();
        throw new Error(`docker-registry did not answer:\n${registry.log}`);
      }
      await new Promise((r) => setTimeout(r, 100));
    }
    return registry;
  }

  /**
   * Makes an image of its own from {@linkcode MINBASE_IMAGE} (one layer no
   * other image on the engine has, so that a pull must fetch it), pushes it
   * as `<host>/<name>:<tag>`, and removes it from the engine again.
   *
   * @returns the image's reference
   */
  async pushFresh(name: string, tag: string): Promise<string> {
    const image = `${this.host}/${name}:${tag}`;
    const source = `capsule-registry-src-${crypto.randomUUID().slice(0, 8)}`;
    await mustRun([
      "docker",
      "create",
      "--name",
      source,
      MINBASE_IMAGE,
      "true",
    ]);
    try {
      await mustRun([
        "sh",
        "-c",
        `docker export "$1" | docker import -c 'CMD ["/bin/bash"]' - "$2"`,
        "sh",
        source,
        image,
      ]);
    } finally {
      await run(["docker", "rm", "-f", source]);
    }
    // The client's login lives in a config of its own, not the machine's.
    const env = { DOCKER_CONFIG: `${this.dir}/client` };
    await mustRun(
      ["sh", "-c", `printf '%s' "$1" | docker login -u "$2" --password-stdin "$3"`, "sh"]
        .concat([this.password, this.username, this.host]),
      env,
    );
    await mustRun(["docker", "push", image], env);
    await removeImage(image);
    return image;
  }

  /** Stops the registry and removes its storage. */
  async stop(): Promise<void> {
    try {
      this.#child.kill("SIGTERM");
    } catch {
      // Already gone.
    }
    await this.#child.status;
    await this.#reading;
    await Deno.remove(this.dir, { recursive: true }).catch(() => {});
  }
}

/** Removes `image` from the engine, if there (a container of it must be gone first). */
export async function removeImage(image: string): Promise<void> {
  const { code, out } = await run(["docker", "image", "rm", image]);
  if (code !== 0 && !/No such image/i.test(out)) {
    throw new Error(`docker image rm ${image} failed: ${out}`);
  }
}

/** Whether the engine has `image`. */
export async function hasImage(image: string): Promise<boolean> {
  return (await run(["docker", "image", "inspect", image])).code === 0;
}
