/** An in-memory ContainerRuntime for unit tests: records calls and injects failures. */
import { CapsuleError } from "../../src/errors/mod.ts";
import type {
  ContainerRuntime,
  ContainerSpec,
  ContainerSummary,
  EnsureImageOptions,
  ExecSpec,
  ExitResult,
  OutputChunk,
  PullEvent,
  PullImageOptions,
  RunningProcess,
} from "../../src/runtime/mod.ts";
import type { ToolSet } from "../../src/tools/mod.ts";

/** What a fake process does once started. */
export interface FakeScript {
  output?: OutputChunk[];
  exit?: ExitResult;
  /** Echo stdin back on stdout until EOF, then exit. */
  echoStdin?: boolean;
  /** Keep running until a signal or removal. */
  untilSignal?: boolean;
}

/** A call the fake saw. */
export type FakeCall =
  | { op: "ensureImage"; image: string; options: EnsureImageOptions }
  | { op: "hasImage"; image: string }
  | { op: "pullImage"; image: string; options: PullImageOptions }
  | { op: "run"; spec: ContainerSpec }
  | { op: "start"; spec: ContainerSpec; id: string }
  | { op: "exec"; id: string; spec: ExecSpec }
  | { op: "close"; id: string }
  | { op: "remove"; id: string }
  | { op: "resize"; id: string; size: { cols: number; rows: number } }
  | { op: "signal"; id: string; name: string }
  | { op: "stdin"; id: string; data: string }
  | { op: "closeStdin"; id: string }
  | { op: "enableDiskQuota"; image: string }
  | { op: "installTools"; image: string; hash: string };

/** A controllable queue of output chunks that ends when closed. */
class ChunkQueue implements AsyncIterable<OutputChunk> {
  #items: OutputChunk[] = [];
  #waiting: (() => void) | undefined;
  #closed = false;
  push(chunk: OutputChunk) {
    this.#items.push(chunk);
    this.#waiting?.();
  }
  close() {
    this.#closed = true;
    this.#waiting?.();
  }
  async *[Symbol.asyncIterator](): AsyncGenerator<OutputChunk> {
    while (true) {
      const item = this.#items.shift();
      if (item) {
        yield item;
        continue;
      }
      if (this.#closed) return;
      await new Promise<void>((r) => (this.#waiting = r));
      this.#waiting = undefined;
    }
  }
}

/** The fake runtime. Set `script`, `failEnsureImage` or `failRun` before a session. */
export class FakeRuntime implements ContainerRuntime {
  calls: FakeCall[] = [];
  script: FakeScript = { exit: { code: 0, oomKilled: false } };
  failEnsureImage: Error | undefined;
  failRun: Error | undefined;
  /** Makes `start` fail (shared and pooled containers). */
  failStart: Error | undefined;
  /** Makes `remove` wait for this before the container is gone. */
  removeGate: Promise<void> | undefined;
  /** Makes `start` wait for this before answering. */
  startGate: Promise<void> | undefined;
  /** Bytes each container wrote, as `list(..., { size: true })` reports them. */
  sizes = new Map<string, number>();
  /** What `enableDiskQuota` answers. */
  diskQuota = false;
  /** When set, `run` waits for it (a container still starting). */
  runGate: Promise<void> | undefined;
  live = new Set<string>();
  /** Labels of the containers created, by id. */
  labels = new Map<string, Record<string, string>>();
  #next = 0;
  /** Every process started in a container, by container id. */
  #processes = new Map<string, ((code?: number) => void)[]>();

  ping(): Promise<void> {
    return Promise.resolve();
  }

  ensureImage(image: string, options: EnsureImageOptions): Promise<void> {
    this.calls.push({ op: "ensureImage", image, options });
    return this.failEnsureImage ? Promise.reject(this.failEnsureImage) : Promise.resolve();
  }

  /** Images `hasImage` says are absent until a pull succeeds; every other one is there. */
  missingImages = new Set<string>();
  /** Makes `pullImage` fail with this (the image stays as it was). */
  failPull: Error | undefined;
  /** Makes `pullImage` wait for this after its events, before it ends. */
  pullGate: Promise<void> | undefined;
  /** What `pullImage` reports, in order, before it waits for `pullGate`. */
  pullEvents: PullEvent[] = [];

  hasImage(image: string): Promise<boolean> {
    this.calls.push({ op: "hasImage", image });
    return Promise.resolve(!this.missingImages.has(image));
  }

  async pullImage(image: string, options: PullImageOptions = {}): Promise<void> {
    this.calls.push({ op: "pullImage", image, options });
    for (const event of this.pullEvents) options.onEvent?.(event);
    await this.pullGate;
    if (this.failPull) throw this.failPull;
    this.missingImages.delete(image);
  }

  async run(spec: ContainerSpec): Promise<RunningProcess> {
    this.calls.push({ op: "run", spec });
    await this.runGate;
    if (this.failRun) throw this.failRun;
    const id = `fake${++this.#next}`;
    this.live.add(id);
    this.labels.set(id, spec.labels);
    return this.#spawn(id);
  }

  async start(spec: ContainerSpec): Promise<string> {
    const id = `fake${++this.#next}`;
    this.calls.push({ op: "start", spec, id });
    await this.startGate;
    if (this.failStart) throw this.failStart;
    this.live.add(id);
    this.labels.set(id, spec.labels);
    return id;
  }

  exec(id: string, spec: ExecSpec): Promise<RunningProcess> {
    this.calls.push({ op: "exec", id, spec });
    if (!this.live.has(id)) {
      return Promise.reject(new CapsuleError("CONTAINER_GONE", `no container ${id}`));
    }
    return Promise.resolve(this.#spawn(id));
  }

  /** A process of container `id` that follows {@linkcode script}. */
  #spawn(id: string): RunningProcess {
    const queue = new ChunkQueue();
    const script = this.script;
    let exitResult: ExitResult = script.exit ?? { code: 0, oomKilled: false };
    let exited!: () => void;
    const done = new Promise<void>((r) => (exited = r));
    const finish = (code?: number) => {
      if (code !== undefined) exitResult = { code, oomKilled: false };
      queue.close();
      exited();
    };
    this.#processes.set(id, [...(this.#processes.get(id) ?? []), finish]);
    for (const chunk of script.output ?? []) queue.push(chunk);
    if (!script.echoStdin && !script.untilSignal) finish();
    const calls = this.calls;
    return {
      containerId: id,
      output: queue,
      writeStdin(data: Uint8Array) {
        calls.push({ op: "stdin", id, data: new TextDecoder().decode(data) });
        if (script.echoStdin) queue.push({ stream: "stdout", data });
        return Promise.resolve();
      },
      closeStdin() {
        calls.push({ op: "closeStdin", id });
        if (script.echoStdin) finish();
        return Promise.resolve();
      },
      resize(size: { cols: number; rows: number }) {
        calls.push({ op: "resize", id, size });
        return Promise.resolve();
      },
      signal(name: string) {
        calls.push({ op: "signal", id, name });
        const numbers: Record<string, number> = { INT: 2, TERM: 15, KILL: 9, HUP: 1 };
        if (script.untilSignal) finish(128 + (numbers[name] ?? 0));
        return Promise.resolve();
      },
      async wait() {
        await done;
        return exitResult;
      },
      close() {
        calls.push({ op: "close", id });
        finish();
        return Promise.resolve();
      },
    };
  }

  async remove(id: string): Promise<void> {
    this.calls.push({ op: "remove", id });
    for (const finish of this.#processes.get(id) ?? []) finish(137);
    await this.removeGate;
    this.live.delete(id);
  }

  /** Like the engine: the live containers carrying every one of `labels`, with `sizes` when asked. */
  list(
    labels: Record<string, string> = {},
    options: { size?: boolean } = {},
  ): Promise<ContainerSummary[]> {
    return Promise.resolve(
      [...this.live]
        .map((id) => ({
          id,
          labels: this.labels.get(id) ?? {},
          createdMs: 0,
          ...(options.size ? { sizeRw: this.sizes.get(id) ?? 0 } : {}),
        }))
        .filter((c) => Object.entries(labels).every(([k, v]) => c.labels[k] === v)),
    );
  }

  /** Records the install and names the volume as the real runtime does. */
  installTools(tools: ToolSet, image: string): Promise<string> {
    this.calls.push({ op: "installTools", image, hash: tools.hash });
    return Promise.resolve(`capsule-tools-${tools.hash}`);
  }

  /** Like an engine without storage quotas, unless `diskQuota` is set. */
  enableDiskQuota(image: string): Promise<boolean> {
    this.calls.push({ op: "enableDiskQuota", image });
    return Promise.resolve(this.diskQuota);
  }

  /** Calls of one kind. */
  callsOf<K extends FakeCall["op"]>(op: K): Extract<FakeCall, { op: K }>[] {
    return this.calls.filter((c): c is Extract<FakeCall, { op: K }> => c.op === op);
  }
}
