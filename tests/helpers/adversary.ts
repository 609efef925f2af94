/**
 * Tools for the adversarial end-to-end tests: loopback source addresses,
 * OpenSSH from a chosen source, the Python attack scripts under
 * `tests/e2e/attacks/` and log queries. Engine-side checks are in `docker.ts`.
 */
import assert from "node:assert/strict";
import type { CapsuleProcess } from "./capsule_process.ts";
import { assertNoContainersLeft } from "./docker.ts";
import { type Login, ssh, type SshOptions, type SshResult } from "./ssh_client.ts";

/** Debian's python3, the one that has paramiko (not whatever `python3` is on PATH). */
export const PYTHON = "/usr/bin/python3";
const ATTACKS = new URL("../e2e/attacks/", import.meta.url).pathname;

/**
 * Hands out loopback source addresses `127.0.0.first` .. `127.0.0.last`, each
 * once: capsule's penalties and per-source caps are per address, so every
 * case that must not be judged by an earlier one gets an address of its own.
 */
export class SourceAddresses {
  #next: number;
  readonly #last: number;

  /**
   * @param first the last octet of the first address handed out (at least 2)
   * @param last the last octet of the last one (at most 250)
   */
  constructor(first: number, last: number) {
    if (first < 2 || last > 250 || first > last) {
      throw new RangeError("Use 127.0.0.2 .. 127.0.0.250");
    }
    this.#next = first;
    this.#last = last;
  }

  /** A source address not handed out before. */
  next(): string {
    if (this.#next > this.#last) throw new RangeError("Out of loopback source addresses");
    return `127.0.0.${this.#next++}`;
  }
}

/** Runs OpenSSH (through sshpass for a password) from the loopback address `source`. */
export function sshFrom(
  source: string,
  login: Login,
  command?: string,
  options: SshOptions = {},
): Promise<SshResult> {
  return ssh(login, command, { ...options, args: ["-b", source, ...(options.args ?? [])] });
}

/** Log records of one event, optionally with some fields equal to given values. */
export function logEvents(
  capsule: CapsuleProcess,
  event: string,
  fields: Record<string, unknown> = {},
): Record<string, unknown>[] {
  return capsule.logs().filter((r) =>
    r.event === event && Object.entries(fields).every(([k, v]) => r[k] === v)
  );
}

/** The connection id capsule logged for the client socket `local` ("ip:port"). */
export function connectionIdOf(capsule: CapsuleProcess, local: string): string | undefined {
  const open = logEvents(capsule, "connection.open", { remote: local })[0];
  return open?.connection as string | undefined;
}

/** The last lines of a server's log, for a failure message. */
export function logTail(capsule: CapsuleProcess, lines = 30): string {
  return capsule.logs().slice(-lines).map((r) => JSON.stringify(r)).join("\n");
}

/** Waits until `predicate` holds, polling; fails with `message` after `timeoutMs`. */
export async function eventually(
  predicate: () => boolean | Promise<boolean>,
  message: () => string,
  timeoutMs = 15_000,
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await predicate())) {
    if (Date.now() > deadline) throw new assert.AssertionError({ message: message() });
    await new Promise((r) => setTimeout(r, 100));
  }
}

/** Runs a Python attack script to completion; returns the JSON of its last stdout line. */
export async function runAttack<T = Record<string, unknown>>(
  script: string,
  args: (string | number)[],
  timeoutMs = 90_000,
): Promise<T> {
  const child = new Deno.Command(PYTHON, {
    args: ["-B", `${ATTACKS}${script}`, ...args.map(String)],
    cwd: ATTACKS,
    stdin: "null",
    stdout: "piped",
    stderr: "piped",
  }).spawn();
  const timer = setTimeout(() => child.kill("SIGKILL"), timeoutMs);
  try {
    const out = await child.output();
    const stdout = new TextDecoder().decode(out.stdout).trim();
    const stderr = new TextDecoder().decode(out.stderr);
    assert.equal(out.code, 0, `${script} failed (${out.code}):\n${stderr}\n${stdout}`);
    const last = stdout.split("\n").at(-1) ?? "";
    return JSON.parse(last) as T;
  } finally {
    clearTimeout(timer);
  }
}

/** A Python attack script running in the background, talking in JSON lines. */
export interface AttackProcess {
  /** The next JSON line the script prints. */
  next<T = Record<string, unknown>>(): Promise<T>;
  /** Sends a line to the script's stdin. */
  send(line: string): Promise<void>;
  /** Closes stdin and waits for the script to exit; fails on a non-zero status. */
  finish(): Promise<void>;
  /** Sends the script a signal (e.g. SIGSTOP to freeze it). */
  signal(signal: Deno.Signal): void;
  /** Kills the script and waits for it, whatever its exit status. */
  kill(): Promise<void>;
}

/** Starts a Python attack script in the background (see {@linkcode AttackProcess}). */
export function spawnAttack(script: string, args: (string | number)[]): AttackProcess {
  const child = new Deno.Command(PYTHON, {
    args: ["-B", `${ATTACKS}${script}`, ...args.map(String)],
    cwd: ATTACKS,
    stdin: "piped",
    stdout: "piped",
    stderr: "piped",
  }).spawn();
  const stderrText = new Response(child.stderr).text();
  const reader = child.stdout.pipeThrough(new TextDecoderStream()).getReader();
  const writer = child.stdin.getWriter();
  let buffered = "";
  let finished: Promise<void> | undefined;
  const finish = () =>
    finished ??= (async () => {
      await writer.close().catch(() => {});
      // Drain stdout so that the child can exit, and release the reader.
      while (!(await reader.read()).done);
      const status = await child.status;
      const stderr = await stderrText;
      assert.equal(status.code, 0, `${script} failed (${status.code}):\n${stderr}`);
    })();
  return {
    async next<T>() {
      while (!buffered.includes("\n")) {
        const { value, done } = await reader.read();
        if (done) throw new Error(`${script} ended early:\n${await stderrText}`);
        buffered += value;
      }
      const newline = buffered.indexOf("\n");
      const line = buffered.slice(0, newline);
      buffered = buffered.slice(newline + 1);
      return JSON.parse(line) as T;
    },
    async send(line: string) {
      await writer.write(new TextEncoder().encode(`${line}\n`));
    },
    finish,
    signal(signal: Deno.Signal) {
      child.kill(signal);
    },
    async kill() {
      try {
        child.kill("SIGKILL");
      } catch {
        // Already exited.
      }
      await finish().catch(() => {});
    },
  };
}

/** Makes an OpenSSH key pair (`ed25519`, or `rsa` in PEM so that paramiko reads it). */
export async function makeKey(
  dir: string,
  name: string,
  type: "ed25519" | "rsa" = "ed25519",
): Promise<{ file: string; pub: string }> {
  const file = `${dir}/${name}`;
  const typeArgs = type === "rsa" ? ["-t", "rsa", "-b", "2048", "-m", "PEM"] : ["-t", "ed25519"];
  const out = await new Deno.Command("ssh-keygen", {
    args: ["-q", ...typeArgs, "-N", "", "-C", name, "-f", file],
    stdout: "null",
    stderr: "piped",
  }).output();
  assert.equal(out.code, 0, new TextDecoder().decode(out.stderr));
  return { file, pub: (await Deno.readTextFile(`${file}.pub`)).trim() };
}

/** A server under attack, with a password user for the "still serves" check. */
export interface Target {
  capsule: CapsuleProcess;
  /** A user that logs in with a password. */
  login: Login;
  sources: SourceAddresses;
}

/**
 * Runs one adversarial case as a test step. Afterwards the server must still
 * serve a normal login from a source address it has not seen, and no
 * container may be left; a failure prints the tail of the server's log.
 */
export function adversarialStep(
  t: Deno.TestContext,
  target: () => Target,
  name: string,
  fn: () => Promise<void>,
): Promise<boolean> {
  return t.step(name, async () => {
    const { capsule } = target();
    try {
      await fn();
      await assertStillServes(target());
      await assertNoContainersLeft(15_000, capsule.instance);
    } catch (error) {
      console.error(`capsule log (last 30 lines):\n${logTail(capsule)}`);
      throw error;
    }
  });
}

/** A normal password login from a fresh source address runs a command. */
export async function assertStillServes(target: Target): Promise<void> {
  const source = target.sources.next();
  const result = await sshFrom(source, target.login, "echo alive");
  assert.equal(
    result.stdout,
    "alive\n",
    `a normal login from ${source} failed (${result.code}): ${result.stderr}`,
  );
  assert.equal(result.code, 0);
}
