// @ts-types="@types/dockerode"
import type Docker from "dockerode";
import type { Duplex } from "node:stream";
import { AttachedStreams } from "./_attached_streams.ts";
import type { ExecSpec } from "./container_runtime.ts";

/**
 * Prints the kernel's count of OOM kills in the container's own memory
 * cgroup, as the container sees it: `oom_kill` in `memory.oom_control`
 * (cgroup v1) or `memory.events` (cgroup v2, private cgroup namespace).
 * Shell builtins only.
 */
const READ_OOM_KILLS =
  `for f in /sys/fs/cgroup/memory/memory.oom_control /sys/fs/cgroup/memory.events; do
  [ -r "$f" ] || continue
  while read -r key value; do
    if [ "$key" = oom_kill ]; then echo "$value"; exit 0; fi
  done < "$f"
done
exit 1`;

/** How long the count may take before the engine's events decide instead. */
const COUNT_TIMEOUT_MS = 5_000;
/** How long after a 137 exit the engine gets to record the OOM event. */
const OOM_EVENT_GRACE_MS = 150;

const decoder = new TextDecoder();

/**
 * Tells whether an exec'd process that exited 137 was killed by the
 * kernel's OOM killer. The engine's `OOMKilled` is about the container's own
 * process only, and its `oom` events are not there on every engine: Podman
 * 4.3 emits none (it never learns of the kill, containers/podman#13102). So
 * the kernel's own count of OOM kills in the container decides: read from
 * inside the container right after the exit (the kernel counts the kill
 * before the process dies), and compared with the count last read, which is
 * 0 for a container this runtime started. Where the count cannot be read, or
 * the container was started elsewhere (a persistent container from before a
 * restart), an `oom` event of the engine since the exec started decides.
 */
export class ExecOomJudge {
  readonly #docker: Docker;
  readonly #startExec: (exec: Docker.Exec) => Promise<Duplex>;
  /** Per container: the count of OOM kills last read (0 when this runtime started it). */
  readonly #counts = new Map<string, number>();
  /** Per container: the judgement under way; two exits are judged one after the other. */
  readonly #queues = new Map<string, Promise<boolean>>();

  /**
   * @param docker the engine
   * @param startExec starts an exec without a TTY, its streams hijacked
   */
  constructor(docker: Docker, startExec: (exec: Docker.Exec) => Promise<Duplex>) {
    this.#docker = docker;
    this.#startExec = startExec;
  }

  /** A container this runtime started: no OOM kill in it yet. */
  started(containerId: string): void {
    this.#counts.set(containerId, 0);
  }

  /** A container that is gone. */
  forget(containerId: string): void {
    this.#counts.delete(containerId);
  }

  /**
   * Whether the process of `spec` in the container, which exited 137, was
   * killed for memory.
   *
   * @param sinceMs when the exec was created (ms since the epoch)
   */
  oomKilled(containerId: string, spec: ExecSpec, sinceMs: number): Promise<boolean> {
    const previous = this.#queues.get(containerId) ?? Promise.resolve(false);
    const judged = previous.catch(() => false).then(() => this.#judge(containerId, spec, sinceMs));
    this.#queues.set(containerId, judged);
    const done = () => {
      if (this.#queues.get(containerId) === judged) this.#queues.delete(containerId);
    };
    judged.then(done, done);
    return judged;
  }

  async #judge(containerId: string, spec: ExecSpec, sinceMs: number): Promise<boolean> {
    const count = await this.#count(containerId, spec).catch(() => undefined);
    const before = this.#counts.get(containerId);
    if (count === undefined) return await this.#eventSince(containerId, sinceMs);
    this.#counts.set(containerId, count);
    return before === undefined ? await this.#eventSince(containerId, sinceMs) : count > before;
  }

  /** The container's count of OOM kills, or `undefined` when it cannot be read. */
  async #count(containerId: string, spec: ExecSpec): Promise<number | undefined> {
    const exec = await this.#docker.getContainer(containerId).exec({
      Cmd: [spec.shell, "-c", READ_OOM_KILLS],
      AttachStdout: true,
      AttachStderr: true,
      ...(spec.user !== "" ? { User: spec.user } : {}),
    });
    const streams = new AttachedStreams(await this.#startExec(exec), false);
    const timer = setTimeout(() => streams.destroy(), COUNT_TIMEOUT_MS);
    let out = "";
    try {
      for await (const chunk of streams.output) {
        if (chunk.stream === "stdout") out += decoder.decode(chunk.data);
      }
    } finally {
      clearTimeout(timer);
      streams.destroy();
    }
    return /^\d+\n$/.test(out) ? Number(out) : undefined;
  }

  /** Whether the engine reported an OOM kill in the container since `sinceMs`. */
  async #eventSince(containerId: string, sinceMs: number): Promise<boolean> {
    const seen = () => this.#oomEvent(containerId, sinceMs).catch(() => false);
    if (await seen()) return true;
    // The engine may record the event a moment after the exit.
    await new Promise((resolve) => setTimeout(resolve, OOM_EVENT_GRACE_MS));
    return await seen();
  }

  async #oomEvent(containerId: string, sinceMs: number): Promise<boolean> {
    // A past `until` makes the engine answer at once instead of streaming.
    const stream = await this.#docker.getEvents({
      since: engineTime(sinceMs),
      until: engineTime(Date.now()),
      filters: { container: [containerId], event: ["oom"] },
    } as unknown as Docker.GetEventsOptions);
    let text = "";
    for await (const chunk of stream as AsyncIterable<Uint8Array | string>) {
      text += typeof chunk === "string" ? chunk : decoder.decode(chunk);
    }
    return text.trim() !== "";
  }
}

/** A time as the engine's event filters take it: `seconds.nanoseconds`. */
function engineTime(ms: number): string {
  const nanos = String(Math.round(ms % 1000) * 1_000_000).padStart(9, "0");
  return `${Math.floor(ms / 1000)}.${nanos}`;
}
