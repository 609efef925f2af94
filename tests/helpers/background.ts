/** Client programs left running in the background (forwards, `-N`, IDE sessions), for end-to-end tests. */
import { pollUntil } from "./poll.ts";
import { type Login, sshCommand } from "./ssh_client.ts";

/** A free TCP port on 127.0.0.1 (for a client's end of a forward). */
export function freePort(): number {
  const listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const port = (listener.addr as Deno.NetAddr).port;
  listener.close();
  return port;
}

/** Options of {@linkcode Background}. */
export interface BackgroundOptions {
  /** Written to stdin, which then stays open until {@linkcode Background.finish}; none: /dev/null. */
  stdin?: string;
  /** The program's whole environment (e.g. with `SSH_AUTH_SOCK`); the test's by default. */
  env?: Record<string, string>;
}

/** A program in the background: its output as it comes, its stdin kept open until closed. */
export class Background {
  readonly #child: Deno.ChildProcess;
  readonly #stdin: WritableStreamDefaultWriter<Uint8Array> | undefined;
  readonly #reads: Promise<void>[];
  /** What it printed on stdout so far. */
  stdout = "";
  /** What it printed on stderr so far. */
  stderr = "";
  /** Its exit code, once it exited. */
  readonly code: Promise<number>;

  constructor(command: string[], options: BackgroundOptions = {}) {
    const [program, ...args] = command;
    const child = new Deno.Command(program!, {
      args,
      stdin: options.stdin === undefined ? "null" : "piped",
      stdout: "piped",
      stderr: "piped",
      ...(options.env ? { env: options.env, clearEnv: true } : {}),
    }).spawn();
    this.#child = child;
    this.code = child.status.then((s) => s.code);
    if (options.stdin !== undefined) {
      this.#stdin = child.stdin.getWriter();
      this.#stdin.write(new TextEncoder().encode(options.stdin)).catch(() => {});
    }
    const collect = (stream: ReadableStream<Uint8Array>, into: "stdout" | "stderr") =>
      stream.pipeThrough(new TextDecoderStream()).pipeTo(
        new WritableStream({ write: (text) => void (this[into] += text) }),
      ).catch(() => {});
    this.#reads = [collect(child.stdout, "stdout"), collect(child.stderr, "stderr")];
  }

  /** Waits until `stream` matches `pattern` (failing after `ms`); the match. */
  async waitFor(
    pattern: RegExp,
    stream: "stdout" | "stderr" = "stdout",
    ms = 30_000,
  ): Promise<RegExpMatchArray> {
    const found = await pollUntil(
      () =>
        Promise.resolve({
          match: this[stream].match(pattern),
          stdout: this.stdout,
          stderr: this.stderr,
        }),
      ({ match }) => match !== null,
      ms,
    );
    return found.match!;
  }

  /** Closes stdin and waits up to `ms` for the program to end by itself; its exit code, or null. */
  async finish(ms = 15_000): Promise<number | null> {
    await this.#stdin?.close().catch(() => {});
    let timer: ReturnType<typeof setTimeout> | undefined;
    const status = await Promise.race([
      this.#child.status,
      new Promise<null>((r) => (timer = setTimeout(() => r(null), ms))),
    ]);
    clearTimeout(timer);
    if (status === null) await this.stop();
    await Promise.all(this.#reads);
    return status?.code ?? null;
  }

  /** Ends the program (SIGTERM) if it still runs and waits for it; its stderr. */
  async stop(): Promise<string> {
    await this.#stdin?.close().catch(() => {});
    try {
      this.#child.kill("SIGTERM");
    } catch {
      // already gone
    }
    await this.#child.status;
    await Promise.all(this.#reads);
    return this.stderr;
  }
}

/** Options of {@linkcode backgroundSsh}. */
export interface BackgroundSshOptions extends BackgroundOptions {
  /** The remote command; none runs `-N` (forwards only). */
  command?: string;
  /**
   * `-v`: the client's debug log on stderr, with what the helpers'
   * LogLevel=ERROR hides ("open failed", "Allocated port"). A later
   * `-o LogLevel` would not count: OpenSSH keeps an option's first value.
   */
  verbose?: boolean;
}

/** OpenSSH's `ssh` with `forwards` (`-L`, `-R`, `-D`, `-A`...) in the background. */
export function backgroundSsh(
  login: Login,
  forwards: string[],
  options: BackgroundSshOptions = {},
): Background {
  const { command, verbose, ...rest } = options;
  return new Background(
    sshCommand(login, command, [
      ...forwards,
      ...(verbose ? ["-v"] : []),
      ...(command === undefined ? ["-N"] : []),
    ]),
    rest,
  );
}
