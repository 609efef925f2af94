import type { ConnectionIdentity } from "../auth/mod.ts";
import type { ContainerConfig } from "../config/types.ts";
import { describeError } from "../errors/mod.ts";
import type { ConnectionContainers } from "../lifecycle/mod.ts";
import type { ContainerRuntime, OutputChunk, RunningProcess } from "../runtime/mod.ts";
import { toolPath } from "../tools/mod.ts";
import type { ForwardBudget } from "./forward_budget.ts";
import { pipeTunnel } from "./pipe_tunnel.ts";
import { socatAddress } from "./socat_address.ts";
import type { TunnelDecision, TunnelRequest } from "./tunnel.ts";

/** Options of {@linkcode LocalForwarder}. */
export interface LocalForwarderOptions {
  /** The containers of each connection's running sessions. */
  containers: ConnectionContainers;
  /** A connection's container settings (forwarding policy, user, shell). */
  containerFor(owner: ConnectionIdentity): ContainerConfig;
  /** Forwarded channels per connection, shared with remote and agent forwarding. */
  budget: ForwardBudget;
  /** Milliseconds the relay gets to connect (default 10 s). */
  connectTimeoutMs?: number;
}

/** socat -d -d says this once both ends are connected. */
const READY = /starting data transfer loop/;

/**
 * Local and dynamic forwarding (`ssh -L`, `ssh -D`; `direct-tcpip` and
 * `direct-streamlocal@openssh.com`): each forwarded channel is a relay
 * (capsule's static socat) exec'd in the container of the connection's
 * session, as the container's user, so `127.0.0.1` is the container's
 * loopback and the container's network settings decide what is reachable.
 * The channel is accepted only once the relay has connected; a target that
 * refuses gives the client "connect failed", as OpenSSH's sshd does.
 */
export class LocalForwarder {
  readonly #runtime: ContainerRuntime;
  readonly #options: LocalForwarderOptions;

  /**
   * @param runtime the engine
   * @param options the connection registry, per-user settings and limits
   */
  constructor(runtime: ContainerRuntime, options: LocalForwarderOptions) {
    this.#runtime = runtime;
    this.#options = options;
  }

  /** Decides on one forwarded channel; see {@linkcode TunnelDecision}. */
  async open(request: TunnelRequest): Promise<TunnelDecision> {
    const { connectionId, identity } = request;
    const container = this.#options.containerFor({ connectionId, identity });
    if (!container.forwarding.local) {
      return prohibited("local forwarding is off for this user (container.forwarding.local)");
    }
    if (identity.certificate && !identity.certificate.permitPortForwarding) {
      return prohibited("the certificate does not permit port forwarding");
    }
    const address = socatAddress(request.target);
    if ("refused" in address) return prohibited(address.refused);
    const containerId = this.#options.containers.latest(connectionId);
    if (containerId === undefined) {
      return prohibited("no session is running on this connection to forward from");
    }
    const release = this.#options.budget.take(connectionId);
    if (!release) return prohibited(`too many forwarded channels (${this.#options.budget.cap})`);
    let relay: { process: RunningProcess; output: AsyncIterator<OutputChunk>; early: Uint8Array[] };
    try {
      relay = await this.#connect(containerId, container, address.address);
    } catch (error) {
      release();
      return { refused: describeError(error), prohibited: false };
    }
    return {
      pipe: async (end) => {
        try {
          await pipeTunnel(relay.process, relay.output, relay.early, end);
        } finally {
          release();
        }
      },
      discard: async () => {
        try {
          await relay.process.close();
        } catch {
          // already gone
        } finally {
          release();
        }
      },
    };
  }

  /** Starts the relay and waits until it has connected to the target. */
  async #connect(containerId: string, container: ContainerConfig, address: string) {
    const process = await this.#runtime.exec(containerId, {
      id: `fwd-${crypto.randomUUID().slice(0, 8)}`,
      shell: container.shell,
      cmd: [toolPath("socat"), "-d", "-d", "STDIO", address],
      env: [],
      tty: false,
      workdir: "",
      user: container.user,
    });
    const output = process.output[Symbol.asyncIterator]();
    const early: Uint8Array[] = [];
    let said = "";
    const timeout = Promise.withResolvers<never>();
    const timer = setTimeout(
      () => timeout.reject(new Error("the relay did not connect in time")),
      this.#options.connectTimeoutMs ?? 10_000,
    );
    try {
      while (true) {
        const next = await Promise.race([output.next(), timeout.promise]);
        if (next.done) {
          throw new Error(`the relay could not connect: ${socatComplaint(said) || "it exited"}`);
        }
        if (next.value.stream === "stdout") {
          early.push(next.value.data);
          continue;
        }
        said += new TextDecoder().decode(next.value.data);
        if (READY.test(said)) return { process, output, early };
        if (said.length > 16_384) said = said.slice(-4096);
      }
    } catch (error) {
      await process.close().catch(() => {});
      throw error;
    } finally {
      clearTimeout(timer);
    }
  }
}

function prohibited(reason: string): TunnelDecision {
  return { refused: reason, prohibited: true };
}

/** What socat said went wrong (its first error line, else its last line), without its prefix. */
function socatComplaint(text: string): string {
  const lines = text.trim().split("\n");
  const line = lines.find((l) => / E /.test(l)) ?? lines.at(-1) ?? "";
  return line.replace(/^.*socat\[\d+\] [A-Z] /, "").slice(0, 200);
}
