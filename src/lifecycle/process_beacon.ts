/**
 * Lets capsule processes of one instance (a server and its `serve --stdio`
 * siblings, one per connection) tell whether another of them still runs:
 * each listens on a unix socket named after its id in the state directory,
 * `<server.stateDir>/processes/<id>.sock`, for as long as it lives. A socket
 * that answers is a live process; one that refuses (the process died, even
 * by `kill -9`) or is gone is a dead one. No `/proc` is read (Deno's
 * permissions allow it only with `--allow-all`), and it works across pid
 * namespaces, as long as the processes share the state directory.
 */

/** Whether the process an id names still runs; `undefined` when that cannot be told. */
export type ProcessAlive = (id: string) => Promise<boolean | undefined>;

/** This process's id and a judge of other processes' ids. */
export interface ProcessTokens {
  /** This process's id, stamped on every container it creates (`io.capsule.process`). */
  readonly self: string;
  /** Whether the process an id names still runs; `undefined` when that cannot be told. */
  isAlive: ProcessAlive;
}

let current: string | undefined;

/** This process's id: 16 hex digits, made once. */
export function processId(): string {
  return current ??= crypto.randomUUID().replaceAll("-", "").slice(0, 16);
}

const ID = /^[0-9a-f]{16}$/;

/**
 * This process's beacon: a unix socket that answers while the process runs,
 * and a judge of other processes' beacons in the same directory.
 *
 * @example
 * ```ts
 * const beacon = await ProcessBeacon.open("/var/lib/capsule/processes");
 * await beacon.isAlive(beacon.self); // true
 * await beacon.close();
 * ```
 */
export class ProcessBeacon implements ProcessTokens {
  readonly self: string;
  readonly #dir: string;
  readonly #listener: Deno.Listener | undefined;
  readonly #serving: Promise<void>;

  private constructor(dir: string, self: string, listener: Deno.Listener | undefined) {
    this.#dir = dir;
    this.self = self;
    this.#listener = listener;
    this.#serving = listener ? answer(listener) : Promise.resolve();
  }

  /**
   * Starts answering in `dir` (made when missing). Where unix sockets cannot
   * be made (Windows, a path too long), it leaves a plain `<id>.alive` file:
   * the others then cannot tell when this process ends, and treat it as live.
   */
  static async open(dir: string, self = processId()): Promise<ProcessBeacon> {
    await Deno.mkdir(dir, { recursive: true, mode: 0o700 });
    try {
      const listener = Deno.listen({ transport: "unix", path: `${dir}/${self}.sock` });
      return new ProcessBeacon(dir, self, listener);
    } catch {
      await Deno.writeTextFile(`${dir}/${self}.alive`, "");
      return new ProcessBeacon(dir, self, undefined);
    }
  }

  /** Whether the process of `id` still runs: its socket answers. */
  async isAlive(id: string): Promise<boolean | undefined> {
    if (id === this.self) return true;
    if (!ID.test(id)) return undefined;
    const path = `${this.#dir}/${id}.sock`;
    try {
      const conn = await Deno.connect({ transport: "unix", path });
      conn.close();
      return true;
    } catch (error) {
      if (error instanceof Deno.errors.ConnectionRefused) {
        // Its process is gone for good: tidy its socket up.
        await Deno.remove(path).catch(() => {});
        return false;
      }
      if (!(error instanceof Deno.errors.NotFound)) return undefined;
    }
    try {
      await Deno.stat(`${this.#dir}/${id}.alive`);
      return undefined;
    } catch {
      return false;
    }
  }

  /** Stops answering: from now on the others take this process for dead. */
  async close(): Promise<void> {
    if (this.#listener) {
      this.#listener.close();
      await this.#serving;
    }
    const file = `${this.#dir}/${this.self}.${this.#listener ? "sock" : "alive"}`;
    await Deno.remove(file).catch(() => {});
  }
}

async function answer(listener: Deno.Listener): Promise<void> {
  try {
    for await (const conn of listener) conn.close();
  } catch {
    // Closed.
  }
}
