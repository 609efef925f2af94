/**
 * Adversarial end to end, after authentication: hostile env, pty and
 * window-change requests, channel floods, forwarding and odd requests, and
 * the container's own lock-down, against the real capsule process.
 */
import assert from "node:assert/strict";
import {
  adversarialStep,
  eventually,
  runAttack,
  SourceAddresses,
  type Target,
} from "../helpers/adversary.ts";
import { freePort } from "../helpers/background.ts";
import { DEMO_PASSWORD, startDemoCapsule } from "../helpers/demo_capsule.ts";
import {
  assertNoContainersLeft,
  capsuleContainers,
  containerEvents,
  inspect,
  requireEngine,
} from "../helpers/docker.ts";
import {
  collect,
  connectSsh2,
  openChannel,
  sshCommand,
  waitForOutput,
} from "../helpers/ssh_client.ts";
// @ts-types="@types/ssh2"
import type { Client, ClientChannel } from "ssh2";

/**
 * busybox ash's prompt, possibly followed by its clear-to-end-of-screen
 * sequence or its cursor-position query (ESC [ 6 n, sent on some terminals).
 */
// deno-lint-ignore no-control-regex -- the terminal's escape sequences are the point
const isPrompt = (text: string) => /# (\x1b\[J|\x1b\[6n)*$/.test(text);

/**
 * A command's end marker: `echo E$((1+1))ND` prints "E2ND", which the
 * terminal's echo of the typed command line does not contain.
 */
const END = "echo E$((1+1))ND";
const ended = (text: string) => /E2ND\r?\n/.test(text);

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** `NAME=value` lines of `env` output as a map (values may not contain newlines). */
function parseEnv(text: string): Map<string, string> {
  const env = new Map<string, string>();
  for (const line of text.split("\n")) {
    const eq = line.indexOf("=");
    if (eq > 0) env.set(line.slice(0, eq), line.slice(eq + 1));
  }
  return env;
}

/** A listener that counts the connections it gets: nothing may be forwarded to it. */
function bait(): { port: number; connections: () => number; close: () => Promise<void> } {
  const listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  let count = 0;
  const accepting = (async () => {
    try {
      for await (const conn of listener) {
        count++;
        conn.close();
      }
    } catch {
      // Closed.
    }
  })();
  return {
    port: (listener.addr as Deno.NetAddr).port,
    connections: () => count,
    async close() {
      listener.close();
      await accepting;
    },
  };
}

/** Reads from a connection until EOF, an error, or `limit` bytes; returns what came. */
async function readAll(conn: Deno.Conn, limit = 4096): Promise<Uint8Array> {
  const chunks: number[] = [];
  const buf = new Uint8Array(1024);
  while (chunks.length < limit) {
    let n: number | null;
    try {
      n = await conn.read(buf);
    } catch {
      break;
    }
    if (n === null) break;
    chunks.push(...buf.subarray(0, n));
  }
  return new Uint8Array(chunks);
}

/** An OpenSSH client run in the background whose stdout can be watched. */
function spawnSsh(args: string[], env?: Record<string, string>) {
  const [program, ...rest] = args;
  const child = new Deno.Command(program!, {
    args: rest,
    stdin: "null",
    stdout: "piped",
    stderr: "piped",
    ...(env ? { env } : {}),
  }).spawn();
  let stdout = "";
  const reading = (async () => {
    for await (const chunk of child.stdout.pipeThrough(new TextDecoderStream())) {
      stdout += chunk;
    }
  })();
  const stderr = new Response(child.stderr).text();
  return {
    async waitFor(text: string, timeoutMs = 20_000) {
      await eventually(
        () => stdout.includes(text),
        () => `never printed ${text}: ${stdout}`,
        timeoutMs,
      );
    },
    async done() {
      const status = await child.status;
      await reading;
      return { code: status.code, stdout, stderr: await stderr };
    },
  };
}

Deno.test("adversarial end to end: sessions under attack", async (t) => {
  await requireEngine();
  const { capsule, login } = await startDemoCapsule();
  const target: Target = { capsule, login, sources: new SourceAddresses(150, 219) };
  const demo = target.login;
  const step = (name: string, fn: () => Promise<void>) =>
    adversarialStep(t, () => target, name, fn);
  /** An ssh2 client logged in as demo from a fresh source address. */
  const connect = () => connectSsh2(demo, { localAddress: target.sources.next() });

  /** Runs `shell` with a pty, waits for the prompt, runs `command`, returns its output. */
  async function inShell(
    client: Client,
    pty: { rows: number; cols: number; term: string },
    command: string,
    until: (text: string) => boolean,
  ): Promise<{ text: string; channel: ClientChannel; done: ReturnType<typeof collect> }> {
    const channel = await openChannel(client, { shell: true }, {
      pty: { ...pty, width: 0, height: 0 },
    });
    const done = collect(channel);
    await waitForOutput(channel, isPrompt);
    channel.write(`${command}\n`);
    const text = await waitForOutput(channel, until);
    return { text, channel, done };
  }

  try {
    await step("LD_PRELOAD, PATH and names with '=' never reach the container", async () => {
      const client = await connect();
      try {
        const hostile = {
          LD_PRELOAD: "/tmp/evil.so",
          PATH: "/evil/bin",
          "LC_EVIL=1": "x",
          "LANG=C PATH": "y",
          "LC_NL\nPATH": "/evil/nl",
          LANG: "C.UTF-8",
          LC_OK: "yes",
        };
        const first = await collect(await openChannel(client, { exec: "env" }, { env: hostile }));
        assert.equal(first.code, 0, first.stderr);
        const env = parseEnv(first.stdout);
        assert.equal(env.get("LANG"), "C.UTF-8", `allow-listed env arrives: ${first.stdout}`);
        assert.equal(env.get("LC_OK"), "yes", first.stdout);
        assert.equal(env.has("LD_PRELOAD"), false, first.stdout);
        assert.notEqual(env.get("PATH"), "/evil/bin", first.stdout);
        assert.doesNotMatch(first.stdout, /evil|LC_EVIL|LC_NL/, first.stdout);

        // At most 64 env requests per session are honoured.
        const many = Object.fromEntries(
          Array.from({ length: 100 }, (_, i) => [`LC_V${i}`, String(i)]),
        );
        const second = await collect(await openChannel(client, { exec: "env" }, { env: many }));
        const count = [...parseEnv(second.stdout).keys()].filter((k) => k.startsWith("LC_V"));
        assert.ok(count.length >= 1 && count.length <= 64, `${count.length} LC_V* arrived`);
      } finally {
        client.end();
      }
    });

    await step("a 2^32-1 PTY and a 10 KB TERM are clamped and replaced", async () => {
      const client = await connect();
      try {
        // The echo of the typed line shows "$TERM", which the pattern leaves out.
        const probe = "stty size; echo TERM=$TERM.";
        const shown = (s: string) => /TERM=[A-Za-z0-9._+;/ -]*\.\r?\n/.test(s);
        const [huge, hostile, plain] = await Promise.all([
          inShell(
            client,
            { rows: 2 ** 32 - 1, cols: 2 ** 32 - 1, term: "x".repeat(10 * 1024) },
            probe,
            shown,
          ),
          inShell(client, { rows: 24, cols: 80, term: "xterm;rm -rf /" }, probe, shown),
          inShell(client, { rows: 30, cols: 100, term: "vt100" }, probe, shown),
        ]);
        assert.match(huge.text, /\b10000 10000\b/, huge.text);
        assert.match(huge.text, /TERM=xterm\.\r?\n/, "a 10 KB TERM is replaced by xterm");
        assert.match(hostile.text, /TERM=xterm\.\r?\n/, "a TERM with ';' is replaced");
        assert.match(plain.text, /\b30 100\b/, plain.text);
        assert.match(plain.text, /TERM=vt100\.\r?\n/, "a plain TERM is kept");
        for (const s of [huge, hostile, plain]) {
          s.channel.write("echo works-$((6*7)); exit 3\n");
        }
        for (const s of [huge, hostile, plain]) {
          const result = await s.done;
          assert.match(result.stdout, /works-42/);
          assert.equal(result.code, 3);
        }
      } finally {
        client.end();
      }
    });

    await step("10,000 window-changes reach the engine as a handful of resizes", async () => {
      const client = await connect();
      try {
        const channel = await openChannel(client, { shell: true }, {
          pty: { term: "xterm", rows: 24, cols: 80, width: 0, height: 0 },
        });
        const done = collect(channel);
        await waitForOutput(channel, isPrompt);
        const ids = await capsuleContainers(capsule.instance);
        assert.equal(ids.length, 1, `one session container: ${ids}`);
        const since = Date.now() / 1000;
        for (let batch = 0; batch < 10; batch++) {
          for (let i = 0; i < 1000; i++) {
            const n = batch * 1000 + i;
            channel.setWindow(20 + (n % 50), 60 + (n % 100), 0, 0);
          }
          await sleep(100);
        }
        channel.setWindow(40, 120, 0, 0);
        // Let the coalesced resizes settle, then ask the terminal.
        await sleep(1500);
        channel.write(`stty size; ${END}\n`);
        const text = await waitForOutput(channel, ended);
        const until = Date.now() / 1000;
        assert.match(text, /\b40 120\b/, `the final size wins: ${text}`);
        const resizes = await containerEvents(ids[0]!, "resize", since, until);
        const allowed = Math.ceil(5 * (until - since)) + 2;
        assert.ok(
          resizes.length >= 1 && resizes.length <= allowed,
          `${resizes.length} resize calls in ${(until - since).toFixed(1)} s (at most ${allowed})`,
        );
        const last = resizes.at(-1)!.Actor as { Attributes: Record<string, string> };
        assert.deepEqual(
          [last.Attributes.height, last.Attributes.width],
          ["40", "120"],
          "the last resize is the final size",
        );
        channel.write("exit\n");
        assert.equal((await done).code, 0);
      } finally {
        client.end();
      }
    });

    await step("3,000 signal requests do not break the session's exit status", async () => {
      // Not one of the listed cases: signals, like window changes, each cost an
      // engine call, and a flood must not cost the user the command's result.
      const client = await connect();
      try {
        const channel = await openChannel(client, {
          exec: "trap '' USR1; echo up; sleep 2; echo end",
        });
        const done = collect(channel);
        await waitForOutput(channel, (s) => s.includes("up"));
        for (let i = 0; i < 3000; i++) channel.signal("USR1");
        const result = await done;
        assert.equal(result.stdout, "up\nend\n", result.stderr);
        assert.equal(result.code, 0, `exit status after a signal flood: ${JSON.stringify(result)}`);
      } finally {
        client.end();
      }
    });

    await step(
      "1,000 channel opens on one connection: 10 at a time, the rest refused",
      async () => {
        const report = await runAttack<{
          opened: number;
          refused: number;
          errors: string[];
          command: { stdout: string; status: number };
          reopened: { stdout: string; status: number };
          connectionActive: boolean;
        }>("channel_flood.py", [capsule.port, target.sources.next(), "demo", DEMO_PASSWORD, 1000]);
        const context = JSON.stringify(report);
        assert.equal(report.opened, 10, context);
        assert.equal(report.refused, 990, context);
        assert.deepEqual(report.errors, [], context);
        assert.deepEqual(report.command, { stdout: "still-here\n", status: 0 }, context);
        assert.deepEqual(report.reopened, { stdout: "again\n", status: 0 }, context);
        assert.equal(report.connectionActive, true, context);
      },
    );

    await step("-L, -R, -D, -A and -X are refused and the client stays usable", async () => {
      const trap = bait();
      const clients: ReturnType<typeof spawnSsh>[] = [];
      const agentDir = await Deno.makeTempDir({ prefix: "capsule-agent-" });
      const agent = new Deno.Command("ssh-agent", {
        args: ["-D", "-a", `${agentDir}/agent.sock`],
        stdin: "null",
        stdout: "null",
        stderr: "null",
      }).spawn();
      try {
        const run = (extra: string[], command: string, env?: Record<string, string>) => {
          const client = spawnSsh(
            sshCommand(demo, command, ["-b", target.sources.next(), ...extra]),
            env,
          );
          clients.push(client);
          return client;
        };
        const [local, remote, socks] = [freePort(), freePort(), freePort()];
        const dest = `127.0.0.1:${trap.port}`;
        const script = "echo started; sleep 2; echo ok";
        const l = run(["-L", `127.0.0.1:${local}:${dest}`], script);
        const r = run(["-R", `127.0.0.1:${remote}:${dest}`], script);
        const d = run(["-D", `127.0.0.1:${socks}`], script);
        await eventually(
          async () => (await Deno.stat(`${agentDir}/agent.sock`).then(() => true, () => false)),
          () => "ssh-agent did not start",
        );
        const a = run(["-A"], 'echo "agent=$SSH_AUTH_SOCK"; echo ok', {
          SSH_AUTH_SOCK: `${agentDir}/agent.sock`,
        });
        const x = run(["-X"], 'echo "display=$DISPLAY"; echo ok', { DISPLAY: "127.0.0.1:55" });

        // -L: the client listens, but the server will not open direct-tcpip.
        await l.waitFor("started");
        const viaLocal = await Deno.connect({ hostname: "127.0.0.1", port: local });
        await viaLocal.write(new TextEncoder().encode("hello\n")).catch(() => 0);
        assert.equal((await readAll(viaLocal)).length, 0, "-L forwarded data");
        viaLocal.close();

        // -R: nothing listens on the server's side.
        await r.waitFor("started");
        await assert.rejects(
          Deno.connect({ hostname: "127.0.0.1", port: remote }),
          Deno.errors.ConnectionRefused,
          "-R opened a listening port",
        );

        // -D: a SOCKS5 CONNECT through the client gets no connection.
        await d.waitFor("started");
        const viaSocks = await Deno.connect({ hostname: "127.0.0.1", port: socks });
        await viaSocks.write(new Uint8Array([5, 1, 0]));
        const hello = new Uint8Array(2);
        assert.equal(await viaSocks.read(hello), 2);
        assert.deepEqual([...hello], [5, 0]);
        const portBytes = [trap.port >> 8, trap.port & 0xff];
        await viaSocks.write(new Uint8Array([5, 1, 0, 1, 127, 0, 0, 1, ...portBytes]));
        const reply = await readAll(viaSocks);
        viaSocks.close();
        assert.ok(reply.length < 2 || reply[1] !== 0, `SOCKS CONNECT succeeded: ${[...reply]}`);

        for (const [name, client] of [["-L", l], ["-R", r], ["-D", d]] as const) {
          const result = await client.done();
          assert.equal(result.stdout, "started\nok\n", `${name}: ${result.stderr}`);
          assert.equal(result.code, 0, `${name}: ${result.stderr}`);
        }
        const agentResult = await a.done();
        assert.equal(agentResult.stdout, "agent=\nok\n", `-A: ${agentResult.stderr}`);
        assert.equal(agentResult.code, 0);
        const x11Result = await x.done();
        assert.equal(x11Result.stdout, "display=\nok\n", `-X: ${x11Result.stderr}`);
        assert.equal(x11Result.code, 0);

        // The same and more by hand: refusals on one channel, then a command on it.
        const odd = await runAttack<{
          sameChannel: Record<string, unknown>;
          channelType: string;
          directTcpip: string;
          tcpipForward: string;
          afterwards: { stdout: string; status: number };
        }>("odd_requests.py", [
          capsule.port,
          target.sources.next(),
          "demo",
          DEMO_PASSWORD,
          trap.port,
        ]);
        const context = JSON.stringify(odd);
        assert.deepEqual(odd.sameChannel, {
          "x-capsule-bogus@example.com": "refused",
          "subsystem x-capsule-nosuch": "refused",
          "x11-req": "refused",
          "auth-agent-req@openssh.com": "refused",
          command: { stdout: "usable||\n", status: 0 },
        }, context);
        assert.match(odd.channelType, /^refused/, context);
        assert.match(odd.directTcpip, /^refused/, context);
        assert.equal(odd.tcpipForward, "refused", context);
        assert.deepEqual(odd.afterwards, { stdout: "ok\n", status: 0 }, context);
        assert.equal(trap.connections(), 0, "something was forwarded to the bait listener");
      } finally {
        // The clients end by themselves (their commands are short): wait for them.
        await Promise.allSettled(clients.map((c) => c.done()));
        try {
          agent.kill("SIGTERM");
        } catch {
          // Already gone.
        }
        await agent.status;
        await trap.close();
        await Deno.remove(agentDir, { recursive: true });
      }
    });

    await step("a session container is locked down and a busybox shell still works", async () => {
      const client = await connect();
      try {
        const { channel, done } = await inShell(
          client,
          { rows: 24, cols: 80, term: "xterm" },
          `ls /; id; grep -E '^(CapEff|NoNewPrivs)' /proc/self/status; ${END}`,
          ended,
        );
        const ids = await capsuleContainers(capsule.instance);
        assert.equal(ids.length, 1, `one session container: ${ids}`);
        const host = (await inspect(ids[0]!)).HostConfig as Record<string, unknown>;
        assert.deepEqual(host.CapDrop, ["ALL"]);
        assert.ok(
          host.CapAdd === null || (Array.isArray(host.CapAdd) && host.CapAdd.length === 0),
          `CapAdd: ${JSON.stringify(host.CapAdd)}`,
        );
        assert.ok(
          (host.SecurityOpt as string[] | null)?.some((o) => /^no-new-privileges(:true)?$/.test(o)),
          `SecurityOpt: ${JSON.stringify(host.SecurityOpt)}`,
        );
        assert.equal(host.Init, true);
        assert.equal(host.PidsLimit, 256);
        assert.equal(host.Memory, 536870912);
        assert.equal(host.MemorySwap, 536870912);
        assert.equal(host.NanoCpus, 1000000000);
        assert.equal(host.NetworkMode, "none");
        assert.equal((host.LogConfig as { Type: string }).Type, "none");
        assert.equal(host.Privileged, false);

        channel.write("exit\n");
        const result = await done;
        assert.equal(result.code, 0);
        const text = result.stdout;
        assert.match(text, /\bbin\b/, text);
        assert.match(text, /\bdev\b/, text);
        assert.match(text, /\betc\b/, text);
        assert.match(text, /uid=0\(root\)/, text);
        // What the user sees of the lock-down: no capabilities, no privilege gain.
        assert.match(text, /CapEff:\s+0000000000000000/, text);
        assert.match(text, /NoNewPrivs:\s+1/, text);
      } finally {
        client.end();
      }
    });
  } finally {
    const code = await capsule.stop();
    assert.equal(code, 0, "capsule exits 0 on SIGTERM");
    await assertNoContainersLeft(15_000, capsule.instance);
  }
});
