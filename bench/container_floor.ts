/**
 * The container floor: the lifecycle capsule runs for `ssh host true`
 * (create, attach, start, wait, remove of `/bin/sh -c true` in busybox),
 * straight through the Docker API with dockerode, no SSH at all.
 */
// @ts-types="@types/dockerode"
import Docker from "dockerode";
import type { Duplex } from "node:stream";
import { BENCH_LABEL } from "./docker_cli.ts";

/** Milliseconds of each step of one lifecycle, and the whole. */
export interface LifecycleTiming {
  total: number;
  steps: Record<LifecycleStep, number>;
}

/** The steps of one container lifecycle, in order. */
export const LIFECYCLE_STEPS = ["create", "attach", "start", "wait", "remove"] as const;
/** One step of a container lifecycle. */
export type LifecycleStep = typeof LIFECYCLE_STEPS[number];

/** Runs container lifecycles with the same settings as capsule's default container. */
export class ContainerFloor {
  readonly #docker = new Docker();
  readonly #runId: string;

  constructor(runId: string) {
    this.#runId = runId;
  }

  /** One create → attach → start → wait → remove of `true`; throws when it does not exit 0. */
  async once(): Promise<LifecycleTiming> {
    const steps = {} as Record<LifecycleStep, number>;
    const started = performance.now();
    let mark = started;
    const step = (name: LifecycleStep) => {
      const now = performance.now();
      steps[name] = now - mark;
      mark = now;
    };
    const container = await this.#docker.createContainer({
      Image: "busybox",
      Cmd: ["/bin/sh", "-c", "true"],
      Tty: false,
      OpenStdin: true,
      StdinOnce: true,
      AttachStdin: true,
      AttachStdout: true,
      AttachStderr: true,
      Labels: { [BENCH_LABEL]: this.#runId },
      Hostname: "capsule",
      HostConfig: {
        Init: true,
        AutoRemove: false,
        NetworkMode: "none",
        Memory: 512 * 2 ** 20,
        MemorySwap: 512 * 2 ** 20,
        NanoCpus: 1e9,
        PidsLimit: 256,
        CapDrop: ["ALL"],
        SecurityOpt: ["no-new-privileges"],
        LogConfig: { Type: "none", Config: {} },
      },
    });
    step("create");
    let code: number | undefined;
    try {
      const socket = await container.attach({
        stream: true,
        stdin: true,
        stdout: true,
        stderr: true,
        hijack: true,
      }) as unknown as Duplex;
      step("attach");
      try {
        await container.start();
        step("start");
        // The client's stdin is /dev/null: EOF at once, as `ssh host true` sends.
        socket.end();
        for await (const _ of socket as AsyncIterable<Uint8Array>) {
          // `true` prints nothing; drain until the stream ends.
        }
        const result = await container.wait({ condition: "not-running" }) as { StatusCode: number };
        code = result.StatusCode;
        step("wait");
      } finally {
        socket.destroy();
      }
    } finally {
      await container.remove({ force: true, v: true });
      step("remove");
    }
    if (code !== 0) throw new Error(`container exited ${code}`);
    return { total: performance.now() - started, steps };
  }
}
