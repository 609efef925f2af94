/** An OpenSSH client left running in the background (forwards, `-N`), for end-to-end tests. */
import { type Login, sshCommand } from "./ssh_client.ts";

/** Options of {@linkcode BackgroundSsh}. */
export interface BackgroundSshOptions {
  /** The remote command; none runs `-N` (forwards only). */
  command?: string;
  /** Environment of the client (e.g. `SSH_AUTH_SOCK`). */
  env?: Record<string, string>;
  /**
   * `-v`: the client's debug log on stderr, with what the helpers' LogLevel=ERROR
   * hides ("open failed", "Allocated port"). (A later `-o LogLevel` would not
   * count: OpenSSH keeps an option's first value.)
   */
  verbose?: boolean;
}

/**
 * `ssh` with forwards (`-L`, `-R`, `-D`, `-A`...) running until stopped;
 * its stderr is read as it comes, so a test can wait for a line in it.
 */
export class BackgroundSsh {
  readonly #child: Deno.ChildProcess;
  readonly #stderrDone: Promise<void>;
  #stderr = "";
  /** Everything the client printed on stdout, once it exited. */
  readonly stdout: Promise<string>;
  /** The client's exit code, once it exited. */
  readonly code: Promise<number>;

  constructor(login: Login, forwards: string[], options: BackgroundSshOptions = {}) {
    const [program, ...args] = sshCommand(login, options.command, [
      ...forwards,
      ...(options.verbose ? ["-v"] : []),
      ...(options.command === undefined ? ["-N"] : []),
    ]);
    const child = new Deno.Command(program!, {
      args,
      stdin: "null",
      stdout: "piped",
      stderr: "piped",
      ...(options.env ? { env: options.env } : {}),
    }).spawn();
    this.#child = child;
    this.stdout = new Response(child.stdout).text();
    this.code = child.status.then((s) => s.code);
    this.#stderrDone = (async () => {
      const decoder = new TextDecoder();
      for await (const chunk of child.stderr) {
        this.#stderr += decoder.decode(chunk, { stream: true });
      }
    })();
  }

  /** What the client printed on stderr so far. */
  get stderr(): string {
    return this.#stderr;
  }

  /** Waits until stderr matches `pattern`; the match, or `undefined` if the client exited or time ran out first. */
  async waitFor(pattern: RegExp, ms = 20_000): Promise<RegExpMatchArray | undefined> {
    const deadline = Date.now() + ms;
    let exited = false;
    void this.code.then(() => (exited = true));
    while (Date.now() < deadline) {
      const match = this.#stderr.match(pattern);
      if (match) return match;
      if (exited) {
        await this.#stderrDone;
        return this.#stderr.match(pattern) ?? undefined;
      }
      await new Promise((r) => setTimeout(r, 50));
    }
    return undefined;
  }

  /** Stops the client (SIGTERM) if it still runs; its stderr. */
  async stop(): Promise<string> {
    try {
      this.#child.kill("SIGTERM");
    } catch {
      // already gone
    }
    await this.#child.status;
    await this.#stderrDone;
    return this.#stderr;
  }
}
