// @ts-types="@types/dockerode"
import type Docker from "dockerode";
import type { Duplex } from "node:stream";
import { AttachedStreams } from "./_attached_streams.ts";
import { exitStatusLost, resized } from "./_engine_errors.ts";
import { WAIT_FOR_TTY_SIZE } from "./_tty_size.ts";
import type { ExecSpec, ExitResult, OutputChunk, RunningProcess } from "./container_runtime.ts";

/*
 * The engine has no API to signal an exec'd process, and the pid it reports
 * is the host's. So each session's command starts under a tiny shell wrapper
 * that writes its own pid (inside the container) to a file and then execs
 * the command, keeping that pid; signals are sent by a second exec running
 * `kill` on the recorded pid.
 */

/** The exec's command line: the session's command behind the pid-recording wrapper. */
export function wrappedCommand(spec: ExecSpec, pidFile: string): string[] {
  return [spec.shell, "-c", spec.tty ? RECORD_PID_TTY : RECORD_PID, pidFile, ...spec.cmd];
}

/** Where an exec'd session's shell records its pid. */
export function pidFileOf(spec: ExecSpec): string {
  return `/tmp/.capsule-${spec.id}.pid`;
}

/** `sh -c RECORD_PID <pid file> <command...>`: writes the shell's pid, then execs the command. */
const RECORD_PID = `{ echo $$ > "$0"; } 2>/dev/null; exec "$@"`;
/** RECORD_PID for a TTY: waits for the TTY's size too (see WAIT_FOR_TTY_SIZE). */
const RECORD_PID_TTY = `{ echo $$ > "$0"; } 2>/dev/null
${WAIT_FOR_TTY_SIZE}
exec "$@"`;
/** `sh -c SIGNAL_PID <pid file> <signal>`: signals the recorded pid. */
const SIGNAL_PID = `kill -s "$1" "$(cat "$0")"`;
/** `sh -c HANG_UP <pid file>`: hangs up the recorded pid and forgets it. */
const HANG_UP = `kill -s HUP "$(cat "$0")" 2>/dev/null; rm -f "$0"`;
/** `sh -c FORGET_PID <pid file>`: removes the pid file of a process that ended. */
const FORGET_PID = `rm -f "$0"`;

/** First and longest pause between two looks at an exec that still runs after its output ended. */
const EXIT_POLL_FIRST_MS = 10;
const EXIT_POLL_MAX_MS = 500;

/** What {@linkcode DockerExecProcess} is made of. */
export interface ExecParts {
  container: Docker.Container;
  exec: Docker.Exec;
  /** The exec's hijacked connection. */
  socket: Duplex;
  spec: ExecSpec;
  pidFile: string;
  /** Whether the process, which exited 137, was killed for memory (see `_exec_oom.ts`). */
  oomKilled: () => Promise<boolean>;
}

/** A process exec'd into a running container. */
export class DockerExecProcess implements RunningProcess {
  readonly containerId: string;
  readonly output: AsyncIterable<OutputChunk>;
  readonly #container: Docker.Container;
  readonly #exec: Docker.Exec;
  readonly #streams: AttachedStreams;
  readonly #spec: ExecSpec;
  readonly #pidFile: string;
  readonly #oomKilled: () => Promise<boolean>;
  #exit: Promise<ExitResult> | undefined;
  #exited = false;
  #closed = false;
  #onClose: (() => void) | undefined;

  /** @param parts the exec and what it needs */
  constructor(parts: ExecParts) {
    this.containerId = parts.container.id;
    this.#container = parts.container;
    this.#exec = parts.exec;
    this.#streams = new AttachedStreams(parts.socket, parts.spec.tty);
    this.output = this.#streams.output;
    this.#spec = parts.spec;
    this.#pidFile = parts.pidFile;
    this.#oomKilled = parts.oomKilled;
  }

  writeStdin(data: Uint8Array): Promise<void> {
    return this.#streams.write(data);
  }

  closeStdin(): Promise<void> {
    // The engine drops a TTY exec's output once its stdin is half-closed; a
    // terminal has no EOF of its own anyway (sshd ignores one on a PTY too).
    if (!this.#spec.tty) this.#streams.end();
    return Promise.resolve();
  }

  async resize(size: { cols: number; rows: number }): Promise<void> {
    await resized(this.#exec.resize({ h: size.rows, w: size.cols }));
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
    // The output ends when the process closes its stdout and stderr, which
    // may be long before it exits (`exec >log; sleep 60; exit 3`): poll the
    // exec, more slowly as time goes by, until it has exited or we let go.
    let delay = EXIT_POLL_FIRST_MS;
    try {
      while (true) {
        const info = await this.#exec.inspect();
        if (!info.Running && info.ExitCode !== null) {
          this.#exited = true;
          const oomKilled = info.ExitCode === 137 && await this.#oomKilled().catch(() => false);
          return { code: info.ExitCode, oomKilled };
        }
        if (await this.#closedWithin(delay)) throw new Error("let go before the process exited");
        delay = Math.min(delay * 2, EXIT_POLL_MAX_MS);
      }
    } catch (error) {
      this.#streams.destroy();
      throw exitStatusLost(error);
    }
  }

  /** Waits `ms`; true if the process was let go of meanwhile. */
  #closedWithin(ms: number): Promise<boolean> {
    if (this.#closed) return Promise.resolve(true);
    return new Promise((resolve) => {
      const timer = setTimeout(() => {
        this.#onClose = undefined;
        resolve(false);
      }, ms);
      this.#onClose = () => {
        clearTimeout(timer);
        resolve(true);
      };
    });
  }

  async close(options: { containerGoing?: boolean } = {}): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    this.#onClose?.();
    this.#streams.destroy();
    if (options.containerGoing) return;
    await this.#run(this.#exited ? FORGET_PID : HANG_UP).catch(() => {});
  }
}
