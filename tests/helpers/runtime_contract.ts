/**
 * The contract every {@linkcode ContainerRuntime} must keep, as test steps
 * over a real engine: what capsule's sessions, modes, pool and sweep rely on.
 * Parameterised by the runtime (made by `connect`) and the engine it drives.
 */
import assert from "node:assert/strict";
import { CapsuleError, type CapsuleErrorCode } from "../../src/errors/mod.ts";
import {
  type ContainerRuntime,
  type ContainerSpec,
  type ExecSpec,
  LABELS,
  type RunningProcess,
} from "../../src/runtime/mod.ts";
import { findTools } from "../../src/tools/mod.ts";

/** What the contract is run with. */
export interface ContractSubject {
  /** The runtime on the engine under test. */
  runtime: ContainerRuntime;
  /** The same kind of runtime on an engine that is not there. */
  unreachable: ContainerRuntime;
  /** An image the engine has, with a POSIX shell and busybox's tools. */
  image: string;
}

const decoder = new TextDecoder();
const encoder = new TextEncoder();

/** A locked-down spec as capsule makes them, with a label set unique to this run. */
export function contractSpec(
  run: string,
  image: string,
  overrides: Partial<ContainerSpec> = {},
): ContainerSpec {
  return {
    name: `capsule-contract-${run}-${crypto.randomUUID().slice(0, 8)}`,
    image,
    cmd: ["/bin/sh", "-c", "exit 0"],
    shell: "/bin/sh",
    env: [],
    tty: false,
    labels: {
      [LABELS.managed]: "true",
      [LABELS.instance]: `contract-${run}`,
      [LABELS.mode]: "session",
    },
    workdir: "/",
    user: "",
    hostname: "capsule",
    memory: 64 * 1024 * 1024,
    cpus: 1,
    pids: 64,
    network: "none",
    mounts: [],
    capAdd: [],
    noNewPrivileges: true,
    privileged: false,
    disk: 0,
    readOnlyRootfs: false,
    tmpfs: {},
    ulimits: { nofile: { soft: 1024, hard: 4096 }, nproc: { soft: 1024, hard: 1024 } },
    ...overrides,
  };
}

function execSpec(cmd: string, overrides: Partial<ExecSpec> = {}): ExecSpec {
  return {
    id: crypto.randomUUID().slice(0, 8),
    shell: "/bin/sh",
    cmd: ["/bin/sh", "-c", cmd],
    env: [],
    tty: false,
    workdir: "",
    user: "",
    ...overrides,
  };
}

/** Everything a process wrote, by stream, once its output ends. */
async function drain(process: RunningProcess): Promise<{ stdout: string; stderr: string }> {
  let stdout = "";
  let stderr = "";
  for await (const chunk of process.output) {
    if (chunk.stream === "stdout") stdout += decoder.decode(chunk.data);
    else stderr += decoder.decode(chunk.data);
  }
  return { stdout, stderr };
}

/**
 * Reads output until `seen` holds for what arrived so far, leaving the rest
 * of the stream to the caller; fails after 20 s.
 */
async function readUntil(
  iterator: AsyncIterator<{ stream: string; data: Uint8Array }>,
  seen: (text: string) => boolean,
  what: string,
): Promise<string> {
  let text = "";
  const deadline = Date.now() + 20_000;
  while (!seen(text)) {
    const timer = new Promise<"late">((r) => {
      const id = setTimeout(() => r("late"), Math.max(0, deadline - Date.now()));
      Deno.unrefTimer(id);
    });
    const next = await Promise.race([iterator.next(), timer]);
    if (next === "late") throw new Error(`No ${what} within 20 s; got ${JSON.stringify(text)}`);
    if (next.done) throw new Error(`Output ended before ${what}; got ${JSON.stringify(text)}`);
    text += decoder.decode(next.value.data);
  }
  return text;
}

/** 32 MiB on stdout and 32 MiB on stderr at once. */
const BOTH_STREAMS_32M = "head -c 33554432 /dev/zero & head -c 33554432 /dev/zero >&2; wait";

/**
 * Counts a process's output bytes per stream, pausing every few chunks so
 * that the engine's side fills up and backpressure comes and goes many
 * times; fails when the output has not ended within 60 s.
 */
async function drainSlowly(process: RunningProcess): Promise<{ stdout: number; stderr: number }> {
  const counts = { stdout: 0, stderr: 0 };
  const iterator = process.output[Symbol.asyncIterator]();
  const deadline = Date.now() + 60_000;
  for (let i = 1;; i++) {
    let id: ReturnType<typeof setTimeout> | undefined;
    const timer = new Promise<"late">((r) => {
      id = setTimeout(() => r("late"), Math.max(0, deadline - Date.now()));
    });
    const next = await Promise.race([iterator.next(), timer]).finally(() => clearTimeout(id));
    if (next === "late") {
      throw new Error(
        `The output did not end within 60 s; got ${counts.stdout} bytes on stdout and ${counts.stderr} on stderr`,
      );
    }
    if (next.done) return counts;
    counts[next.value.stream] += next.value.data.length;
    if (i % 4 === 0) await new Promise((r) => setTimeout(r, 2));
  }
}

async function assertCode(
  promise: Promise<unknown>,
  code: CapsuleErrorCode,
): Promise<CapsuleError> {
  const error = await promise.then(
    () => assert.fail(`expected a CapsuleError ${code}, got success`),
    (error: unknown) => error,
  );
  assert.ok(error instanceof CapsuleError, `expected a CapsuleError ${code}, got ${error}`);
  assert.equal(
    error.code,
    code,
    `${error.message}: ${(error.cause as Error | undefined)?.message}`,
  );
  return error;
}

/**
 * Runs the contract as steps of `t`. Every container it makes carries the
 * instance label `contract-<run>`; each step removes its own, and the last
 * step checks that none is left.
 */
export async function runtimeContract(
  t: Deno.TestContext,
  subject: ContractSubject,
): Promise<void> {
  const { runtime, image } = subject;
  const run = crypto.randomUUID().slice(0, 8);
  const instance = { [LABELS.instance]: `contract-${run}` };
  const spec = (overrides: Partial<ContainerSpec> = {}) => contractSpec(run, image, overrides);
  const made = new Set<string>();
  const track = <T extends { containerId: string } | string>(x: T): T => {
    made.add(typeof x === "string" ? x : x.containerId);
    return x;
  };

  try {
    await t.step("ping answers", () => runtime.ping());

    await t.step(
      "run: attached before start, a fast command's output and exit code arrive",
      async () => {
        const process = track(
          await runtime.run(spec({
            cmd: ["/bin/sh", "-c", "echo out; echo err >&2; exit 3"],
          })),
        );
        const { stdout, stderr } = await drain(process);
        assert.equal(stdout, "out\n");
        assert.equal(stderr, "err\n");
        assert.deepEqual(await process.wait(), { code: 3, oomKilled: false });
        await process.close({ containerGoing: true });
        await runtime.remove(process.containerId);
      },
    );

    await t.step("run: stdin reaches the process, then EOF", async () => {
      const process = track(await runtime.run(spec({ cmd: ["/bin/sh", "-c", "wc -c"] })));
      await process.writeStdin(encoder.encode("abcdef"));
      await process.closeStdin();
      const { stdout } = await drain(process);
      assert.equal(stdout.trim(), "6");
      assert.equal((await process.wait()).code, 0);
      await runtime.remove(process.containerId);
    });

    await t.step(
      "run: 32 MiB on stdout and stderr at once, read slowly, all arrive and end",
      async () => {
        const process = track(
          await runtime.run(spec({ cmd: ["/bin/sh", "-c", BOTH_STREAMS_32M] })),
        );
        assert.deepEqual(await drainSlowly(process), { stdout: 32 << 20, stderr: 32 << 20 });
        assert.equal((await process.wait()).code, 0);
        await process.close({ containerGoing: true });
        await runtime.remove(process.containerId);
      },
    );

    await t.step("run: a TTY has its size from the start and follows a resize", async () => {
      const process = track(
        await runtime.run(spec({
          tty: true,
          size: { cols: 101, rows: 31 },
          cmd: ["/bin/sh", "-c", "stty size; read line; stty size"],
        })),
      );
      const output = process.output[Symbol.asyncIterator]();
      await readUntil(output, (s) => s.includes("31 101"), "the first size");
      await process.resize({ cols: 120, rows: 50 });
      await process.writeStdin(encoder.encode("go\r"));
      const rest = await readUntil(output, (s) => s.includes("50 120"), "the new size");
      assert.match(rest, /50 120/);
      assert.equal((await process.wait()).code, 0);
      await runtime.remove(process.containerId);
    });

    await t.step("run: a signal reaches the process", async () => {
      const process = track(
        await runtime.run(spec({
          cmd: [
            "/bin/sh",
            "-c",
            "trap 'echo got-int; exit 5' INT; echo ready; while :; do sleep 1; done",
          ],
        })),
      );
      const output = process.output[Symbol.asyncIterator]();
      await readUntil(output, (s) => s.includes("ready"), "ready");
      await process.signal("INT");
      await readUntil(output, (s) => s.includes("got-int"), "the trap's line");
      assert.equal((await process.wait()).code, 5);
      await runtime.remove(process.containerId);
    });

    await t.step("run: a container killed for memory reports it", async () => {
      const process = track(
        await runtime.run(spec({
          memory: 8 * 1024 * 1024,
          cmd: ["/bin/sh", "-c", "dd if=/dev/zero of=/dev/null bs=64M count=1"],
        })),
      );
      await drain(process);
      assert.deepEqual(await process.wait(), { code: 137, oomKilled: true });
      await runtime.remove(process.containerId);
    });

    const shared = track(await runtime.start(spec({ cmd: ["/bin/sh"], memory: 16 * 1024 * 1024 })));

    await t.step("exec: exit code, stdout and stderr apart, stdin EOF", async () => {
      const process = await runtime.exec(shared, execSpec("cat; echo err >&2; exit 4"));
      await process.writeStdin(encoder.encode("in\n"));
      await process.closeStdin();
      const { stdout, stderr } = await drain(process);
      assert.equal(stdout, "in\n");
      assert.equal(stderr, "err\n");
      assert.deepEqual(await process.wait(), { code: 4, oomKilled: false });
      await process.close();
    });

    await t.step(
      "exec: 32 MiB on stdout and stderr at once, read slowly, all arrive and end",
      async () => {
        const process = await runtime.exec(shared, execSpec(BOTH_STREAMS_32M));
        try {
          assert.deepEqual(await drainSlowly(process), { stdout: 32 << 20, stderr: 32 << 20 });
          assert.equal((await process.wait()).code, 0);
        } finally {
          await process.close();
        }
      },
    );

    await t.step("exec: env, workdir and user apply", async () => {
      const process = await runtime.exec(
        shared,
        execSpec('echo "$GREETING $(pwd) $(id -u)"', {
          env: ["GREETING=hello"],
          workdir: "/tmp",
          user: "65534",
        }),
      );
      const { stdout } = await drain(process);
      assert.equal(stdout, "hello /tmp 65534\n");
      await process.close();
    });

    await t.step("exec: a TTY has its size and follows a resize", async () => {
      const process = await runtime.exec(
        shared,
        execSpec("stty size; read line; stty size", { tty: true, size: { cols: 90, rows: 20 } }),
      );
      const output = process.output[Symbol.asyncIterator]();
      await readUntil(output, (s) => s.includes("20 90"), "the first size");
      await process.resize({ cols: 132, rows: 43 });
      await process.writeStdin(encoder.encode("go\r"));
      await readUntil(output, (s) => s.includes("43 132"), "the new size");
      assert.equal((await process.wait()).code, 0);
      await process.close();
    });

    await t.step("exec: signals reach the process through its pid wrapper", async () => {
      const process = await runtime.exec(
        shared,
        execSpec("trap 'echo got-term; exit 7' TERM; echo ready; while :; do sleep 1; done"),
      );
      const output = process.output[Symbol.asyncIterator]();
      await readUntil(output, (s) => s.includes("ready"), "ready");
      await process.signal("TERM");
      await readUntil(output, (s) => s.includes("got-term"), "the trap's line");
      assert.equal((await process.wait()).code, 7);
      await process.close();
    });

    await t.step("exec: closing a running process hangs it up, and its pid file goes", async () => {
      const id = crypto.randomUUID().slice(0, 8);
      const process = await runtime.exec(
        shared,
        execSpec("echo ready; exec sleep 1000", { id }),
      );
      const output = process.output[Symbol.asyncIterator]();
      await readUntil(output, (s) => s.includes("ready"), "ready");
      await process.close();
      const check = await runtime.exec(
        shared,
        execSpec(
          `for i in $(seq 50); do pgrep -f 'sleep 1000' >/dev/null || break; sleep 0.1; done; ` +
            `pgrep -f 'sleep 1000' >/dev/null && echo running || echo gone; ls /tmp/.capsule-${id}.pid 2>&1 >/dev/null | wc -l`,
        ),
      );
      const { stdout } = await drain(check);
      assert.equal(stdout, "gone\n1\n");
      await check.close();
    });

    await t.step("exec: a process killed for memory reports it", async () => {
      const process = await runtime.exec(
        shared,
        execSpec("dd if=/dev/zero of=/dev/null bs=64M count=1"),
      );
      await drain(process);
      assert.deepEqual(await process.wait(), { code: 137, oomKilled: true });
      await process.close();
    });

    await t.step("exec: a SIGKILL after an OOM kill in the container is no OOM kill", async () => {
      const process = await runtime.exec(shared, execSpec("kill -KILL $$"));
      await drain(process);
      assert.deepEqual(await process.wait(), { code: 137, oomKilled: false });
      await process.close();
    });

    await t.step("list: by label, with creation time and size", async () => {
      // Into /tmp: without capabilities, root may not write into "/" on Podman (mode 0555 there).
      const fill = await runtime.exec(shared, execSpec("head -c 1048576 /dev/zero > /tmp/fill"));
      await drain(fill);
      assert.equal((await fill.wait()).code, 0);
      await fill.close();
      const found = await runtime.list(instance, { size: true });
      const mine = found.find((c) => c.id === shared);
      assert.ok(mine, `the started container is listed: ${JSON.stringify(found)}`);
      assert.equal(mine.labels[LABELS.instance], `contract-${run}`);
      assert.equal(mine.labels[LABELS.mode], "session");
      assert.ok(Math.abs(mine.createdMs - Date.now()) < 10 * 60_000, `createdMs ${mine.createdMs}`);
      assert.ok((mine.sizeRw ?? 0) >= 1024 * 1024, `sizeRw ${mine.sizeRw}`);
      const other = await runtime.list({ ...instance, [LABELS.mode]: "persistent" });
      assert.deepEqual(other, []);
    });

    await t.step("remove: the container goes; removing it again is no error", async () => {
      await runtime.remove(shared);
      await runtime.remove(shared);
      assert.deepEqual(
        (await runtime.list(instance)).map((c) => c.id).filter((id) => id === shared),
        [],
      );
    });

    await t.step("errors: an exec into a removed container is CONTAINER_GONE", async () => {
      await assertCode(runtime.exec(shared, execSpec("true")), "CONTAINER_GONE");
    });

    await t.step("errors: a taken name is NAME_IN_USE", async () => {
      const taken = spec({ cmd: ["/bin/sh"] });
      track(await runtime.start(taken));
      await assertCode(runtime.start({ ...taken }), "NAME_IN_USE");
    });

    await t.step("errors: a missing image is CONTAINER_CREATE_FAILED", async () => {
      await assertCode(
        runtime.run(spec({ image: "capsule-contract-absent:none" })),
        "CONTAINER_CREATE_FAILED",
      );
    });

    await t.step("errors: a missing shell in a started container is SHELL_NOT_FOUND", async () => {
      const id = track(await runtime.start(spec({ cmd: ["/bin/zsh"] })));
      // It died at birth; an exec into it says why.
      await new Promise((r) => setTimeout(r, 500));
      await assertCode(
        runtime.exec(id, execSpec("true", { shell: "/bin/zsh" })),
        "SHELL_NOT_FOUND",
      );
    });

    await t.step(
      "pull policies: present images need no pull, absent ones fail as said",
      async () => {
        assert.equal(await runtime.hasImage(image), true);
        assert.equal(await runtime.hasImage("capsule-contract-absent:none"), false);
        let progress = 0;
        await runtime.ensureImage(image, { policy: "never", onProgress: () => progress++ });
        await runtime.ensureImage(image, {
          policy: "if-not-present",
          onProgress: () => progress++,
        });
        assert.equal(progress, 0);
        await assertCode(
          runtime.ensureImage("capsule-contract-absent:none", { policy: "never" }),
          "IMAGE_NOT_FOUND",
        );
        // Port 9 on loopback: nothing listens, so the registry is refused at once.
        await assertCode(
          runtime.ensureImage("127.0.0.1:9/capsule/absent:none", { policy: "if-not-present" }),
          "REGISTRY_UNREACHABLE",
        );
        // A failed refresh of an image that is there keeps it.
        await runtime.ensureImage(image, { policy: "always" });
      },
    );

    await t.step("the tools volume is filled through the API and mounted read-only", async () => {
      const tools = await findTools();
      assert.ok(tools, "capsule's tools are built (scripts/setup.sh)");
      const volume = await runtime.installTools(tools, image);
      assert.equal(volume, `capsule-tools-${tools.hash}`);
      const process = track(
        await runtime.run(spec({
          cmd: [
            "/bin/sh",
            "-c",
            'echo "$PATH"; test -x /.capsule/bin/sftp-server && echo ok; touch /.capsule/x 2>/dev/null || echo ro',
          ],
        })),
      );
      const { stdout } = await drain(process);
      assert.match(stdout, /:\/\.capsule\/bin\nok\nro\n$/);
      await runtime.remove(process.containerId);
    });

    await t.step("a disk quota is refused or applied, never an error", async () => {
      assert.equal(typeof await runtime.enableDiskQuota(image), "boolean");
    });

    await t.step("an engine that is not there is ENGINE_UNREACHABLE", async () => {
      await assertCode(subject.unreachable.ping(), "ENGINE_UNREACHABLE");
      await assertCode(subject.unreachable.run(spec()), "ENGINE_UNREACHABLE");
      await assertCode(subject.unreachable.start(spec()), "ENGINE_UNREACHABLE");
    });

    await t.step("no container of the contract is left", async () => {
      for (const id of made) await runtime.remove(id);
      assert.deepEqual(await runtime.list(instance), []);
    });
  } finally {
    for (const id of made) await runtime.remove(id).catch(() => {});
  }
}
