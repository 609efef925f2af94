// @ts-types="@types/dockerode"
import type Docker from "dockerode";
import type { Duplex } from "node:stream";
import { AttachedStreams } from "./_attached_streams.ts";
import { exitStatusLost, resized } from "./_engine_errors.ts";
import type { ExitResult, OutputChunk, RunningProcess } from "./container_runtime.ts";

/** A container's own process, attached before the container started. */
export class DockerProcess implements RunningProcess {
  readonly containerId: string;
  readonly output: AsyncIterable<OutputChunk>;
  readonly #container: Docker.Container;
  readonly #streams: AttachedStreams;
  readonly #tty: boolean;
  #exit: Promise<ExitResult> | undefined;

  constructor(container: Docker.Container, socket: Duplex, tty: boolean) {
    this.containerId = container.id;
    this.#container = container;
    this.#tty = tty;
    this.#streams = new AttachedStreams(socket, tty);
    this.output = this.#streams.output;
  }

  writeStdin(data: Uint8Array): Promise<void> {
    return this.#streams.write(data);
  }

  closeStdin(): Promise<void> {
    // As for an exec: half-closing a TTY container's stdin can lose the output
    // still on its way (`ssh -tt host cmd </dev/null` printed nothing about
    // half the time), and sshd ignores EOF on a PTY too.
    if (!this.#tty) this.#streams.end();
    return Promise.resolve();
  }

  async resize(size: { cols: number; rows: number }): Promise<void> {
    await resized(this.#container.resize({ h: size.rows, w: size.cols }));
  }

  async signal(name: string): Promise<void> {
    await this.#container.kill({ signal: name });
  }

  close(): Promise<void> {
    this.#streams.destroy();
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
      this.#streams.destroy();
      throw exitStatusLost(error);
    }
    let oomKilled = false;
    if (result.StatusCode === 137) {
      const info = await this.#container.inspect().catch(() => undefined);
      oomKilled = info?.State?.OOMKilled === true;
    }
    this.#streams.destroy();
    return { code: result.StatusCode, oomKilled };
  }
}
