/**
 * End to end: remote forwarding (`ssh -R`, TCP ports, port 0, unix sockets)
 * and agent forwarding (`ssh -A`) into the container, with OpenSSH, paramiko,
 * asyncssh and an ssh2 client: listeners inside the container in every
 * mode, bytes exact both ways with capsule's memory bounded, the listener
 * not reachable from outside the container, deny by default, the caps,
 * malformed requests, and nothing left behind.
 */
import assert from "node:assert/strict";
import { backgroundSsh, freePort } from "../helpers/background.ts";
import { demoPasswordHash, startDemoCapsule } from "../helpers/demo_capsule.ts";
import { assertNoContainersLeft, requireEngine, requireImage } from "../helpers/docker.ts";
import { run } from "../helpers/file_clients.ts";
import { pollUntil } from "../helpers/poll.ts";
import { rssGrowth } from "../helpers/rss.ts";
import { connectSsh2, type Login, ssh } from "../helpers/ssh_client.ts";

const DEBIAN = "capsule-test-debian:latest";
const BODY = "hello-from-the-client\n";
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const PYTHON_CLIENT = new URL("./clients/forward_remote.py", import.meta.url).pathname;

/** A shell loop that fetches `url` in the container, retrying while the listener comes up. */
function fetchInContainer(url: string): string {
  return `for i in $(seq 100); do wget -qO- ${url} 2>/dev/null && exit 0; sleep 0.1; done; exit 7`;
}

/** The SHA-256 of a file on this machine, by sha256sum. */
async function sha256File(path: string): Promise<string> {
  const out = await run(["sha256sum", path]);
  return out.stdout.split(" ")[0]!;
}

/** A TCP server on this machine that hashes what each connection sends (sha256sum), once it ends. */
function hashingSink(): { port: number; digests: Promise<string>[]; close(): void } {
  const listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const digests: Promise<string>[] = [];
  void (async () => {
    for await (const conn of listener) {
      digests.push((async () => {
        const child = new Deno.Command("sha256sum", { stdin: "piped", stdout: "piped" }).spawn();
        await conn.readable.pipeTo(child.stdin).catch(() => {});
        // Closing our side tells the sender everything arrived (Deno may have
        // closed the connection already, at the end of its readable).
        try {
          conn.close();
        } catch {
          // already closed
        }
        const out = await child.output();
        return new TextDecoder().decode(out.stdout).split(" ")[0]!;
      })());
    }
  })().catch(() => {});
  return {
    port: (listener.addr as Deno.NetAddr).port,
    digests,
    close: () => listener.close(),
  };
}

/** A TCP server on this machine that sends `file` to each connection, then closes it. */
function fileSource(file: string): { port: number; close(): void } {
  const listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  void (async () => {
    for await (const conn of listener) {
      void (async () => {
        const source = await Deno.open(file);
        await source.readable.pipeTo(conn.writable).catch(() => {});
      })();
    }
  })().catch(() => {});
  return { port: (listener.addr as Deno.NetAddr).port, close: () => listener.close() };
}

Deno.test("end to end: remote and agent forwarding into the container", async (t) => {
  await requireEngine();
  await requireImage(DEBIAN);
  const passwordHash = await demoPasswordHash();
  const auditDir = await Deno.makeTempDir({ prefix: "capsule-rforward-" });
  const auditFile = `${auditDir}/audit.log`;
  const all = { local: true, remote: true, agent: true };
  const { capsule, login: demo } = await startDemoCapsule({
    config: {
      audit: { file: auditFile },
      server: { maxStartupsPerSource: 40 },
      limits: { listenersPerConnection: 2, forwardsPerConnection: 4 },
      container: { forwarding: all },
      users: {
        conn: { passwordHash, container: { mode: "connection", forwarding: all } },
        pers: {
          passwordHash,
          container: { mode: "persistent", gracePeriod: 1, forwarding: all },
        },
        deb: {
          passwordHash,
          container: { image: DEBIAN, shell: "/bin/bash", user: "1000:1000", forwarding: all },
        },
        bridged: { passwordHash, container: { network: "bridge", forwarding: all } },
        gateway: {
          passwordHash,
          container: { network: "bridge", forwarding: { ...all, gatewayPorts: true } },
        },
        closed: {
          passwordHash,
          container: { forwarding: { local: false, remote: false, agent: false } },
        },
      },
    },
  });
  const login = (user: string): Login => ({ ...demo, user });
  const logs = (event: string) => capsule.logs().filter((r) => r.event === event);
  const web = Deno.serve(
    { hostname: "127.0.0.1", port: 0, onListen: () => {} },
    () => new Response(BODY),
  );
  const webPort = web.addr.port;

  try {
    for (const user of ["demo", "conn", "pers"]) {
      await t.step(`${user}: -R puts a listener on the container's loopback`, async () => {
        const port = freePort();
        const result = await ssh(
          login(user),
          fetchInContainer(`http://127.0.0.1:${port}/`),
          { args: ["-R", `${port}:127.0.0.1:${webPort}`, "-o", "ExitOnForwardFailure=yes"] },
        );
        assert.equal(result.code, 0, result.stderr);
        assert.equal(result.stdout, BODY);
      });
    }

    await t.step(
      "-N -R 0 in persistent mode: the port is picked and reported, reached from another connection, gone after",
      async () => {
        const client = backgroundSsh(
          login("pers"),
          ["-R", `0:127.0.0.1:${webPort}`, "-o", "ExitOnForwardFailure=yes"],
          { verbose: true },
        );
        try {
          const allocated = await client.waitFor(
            /Allocated port (\d+) for remote forward/,
            "stderr",
          );
          assert.ok(allocated, client.stderr);
          const port = Number(allocated[1]);
          const other = await ssh(login("pers"), `wget -qO- http://127.0.0.1:${port}/`);
          assert.equal(other.stdout, BODY, other.stderr);
        } finally {
          await client.stop();
        }
        // The relay leaves with the connection; the user's container stays for its grace period.
        const left = await ssh(login("pers"), "ps -o comm | grep -c capsule-relay");
        assert.equal(left.stdout.trim(), "0", "a relay outlived its connection");
      },
    );

    await t.step(
      "-R of a unix socket: a 0600 socket in the container reaches the client",
      async () => {
        const result = await ssh(
          login("conn"),
          "for i in $(seq 100); do [ -S /tmp/rfwd.sock ] && break; sleep 0.1; done; " +
            "stat -c %a /tmp/rfwd.sock; " +
            // The request's side stays open a moment: Deno's HTTP server drops a
            // connection whose client half-closes before the answer.
            '(printf "GET / HTTP/1.0\\r\\n\\r\\n"; sleep 2) | /.capsule/bin/socat -t 10 - UNIX-CONNECT:/tmp/rfwd.sock',
          { args: ["-R", `/tmp/rfwd.sock:127.0.0.1:${webPort}`, "-o", "ExitOnForwardFailure=yes"] },
        );
        assert.equal(result.code, 0, result.stderr);
        const [mode] = result.stdout.split("\n");
        assert.equal(mode, "600");
        assert.ok(result.stdout.endsWith(`\r\n\r\n${BODY}`), result.stdout);
      },
    );

    await t.step(
      "paramiko and asyncssh: tcpip-forward on port 0, then a session fetches through it",
      async () => {
        for (const library of ["paramiko", "asyncssh"]) {
          const out = await run([
            "/usr/bin/python3",
            PYTHON_CLIENT,
            library,
            String(capsule.port),
            "conn",
            demo.password!,
            String(webPort),
          ]);
          assert.equal(out.code, 0, `${library}: ${out.stderr}`);
          const result = JSON.parse(out.stdout.trim().split("\n").at(-1)!);
          assert.ok(result.port > 0, `${library}: ${out.stdout}`);
          assert.equal(result.body, BODY, library);
          assert.equal(result.status, 0, library);
        }
      },
    );

    await t.step(
      "256 MiB to the container and 64 MiB back arrive byte-exact; a stalled reader holds capsule's memory",
      async () => {
        const blob = await Deno.makeTempFile({ dir: auditDir });
        const made = await run(["sh", "-c", `head -c ${256 * 1024 * 1024} /dev/urandom > ${blob}`]);
        assert.equal(made.code, 0, made.stderr);
        const expected = await sha256File(blob);
        const source = fileSource(blob);
        const sink = hashingSink();
        try {
          const port = freePort();
          const back = freePort();
          const session = ssh(
            login("demo"),
            // Connect, then read nothing for 8 s: the relay, capsule and the
            // client must all hold back instead of buffering 256 MiB.
            `until netstat -ltn | grep -q ":${port} "; do sleep 0.1; done; ` +
              `/.capsule/bin/socat -u TCP:127.0.0.1:${port} - | { sleep 8; sha256sum; } && ` +
              `until netstat -ltn | grep -q ":${back} "; do sleep 0.1; done; ` +
              `head -c 67108864 /dev/urandom > /tmp/up && sha256sum /tmp/up && ` +
              // Like any protocol that waits for its answer, the sender waits for
              // the sink to close (-t 30) before the session, and the container, end.
              `/.capsule/bin/socat -t 30 - TCP:127.0.0.1:${back} < /tmp/up`,
            {
              args: [
                "-R",
                `${port}:127.0.0.1:${source.port}`,
                "-R",
                `${back}:127.0.0.1:${sink.port}`,
                "-o",
                "ExitOnForwardFailure=yes",
              ],
            },
          );
          await sleep(2_000);
          const growth = await rssGrowth(capsule.pid, sleep(5_000));
          assert.ok(
            growth < 64 * 1024 * 1024,
            `RSS grew by ${growth >> 20} MiB while the reader stalled`,
          );
          const result = await session;
          assert.equal(result.code, 0, result.stderr);
          const [down, up] = result.stdout.trim().split("\n").map((l) => l.split(" ")[0]);
          assert.equal(down, expected, "the 256 MiB differ");
          await pollUntil(() => Promise.resolve(sink.digests.length), (n) => n >= 1);
          assert.equal(await sink.digests[0], up, "the 64 MiB differ");
        } finally {
          source.close();
          sink.close();
          await Deno.remove(blob);
        }
      },
    );

    await t.step(
      "-A: SSH_AUTH_SOCK reaches the client's agent, only for the container's user",
      async () => {
        const agentDir = await Deno.makeTempDir({ dir: auditDir });
        const socket = `${agentDir}/agent.sock`;
        const key = `${agentDir}/id`;
        assert.equal(
          (await run(["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-f", key])).code,
          0,
        );
        const agent = new Deno.Command("ssh-agent", { args: ["-D", "-a", socket], stdout: "null" })
          .spawn();
        try {
          await pollUntil(async () => {
            try {
              return (await Deno.stat(socket)).isSocket === true;
            } catch {
              return false;
            }
          }, (up) => up);
          const env = { SSH_AUTH_SOCK: socket };
          assert.equal((await run(["ssh-add", "-q", key], { env })).code, 0);
          const fingerprint = (await run(["ssh-keygen", "-lf", `${key}.pub`])).stdout.split(
            " ",
          )[1]!;
          const pub = (await Deno.readTextFile(`${key}.pub`)).trim();
          const result = await ssh(
            login("deb"),
            'stat -c "%a %u" "$(dirname "$SSH_AUTH_SOCK")" "$SSH_AUTH_SOCK"; ssh-add -l; ' +
              `echo '${pub}' > /tmp/k.pub && ssh-add -T /tmp/k.pub && echo signed`,
            { args: ["-A"], env: { ...Deno.env.toObject(), ...env } },
          );
          assert.equal(result.code, 0, result.stderr);
          const lines = result.stdout.trim().split("\n");
          assert.deepEqual(lines.slice(0, 2), ["700 1000", "600 1000"]);
          assert.match(lines[2]!, new RegExp(fingerprint.replace(/[+/]/g, "\\$&")));
          assert.equal(lines.at(-1), "signed");

          // Persistent mode, busybox: the agent answers a raw request
          // (SSH2_AGENTC_REQUEST_IDENTITIES -> SSH2_AGENT_IDENTITIES_ANSWER, 12).
          const raw = await ssh(
            login("pers"),
            // Held open a moment: ssh-agent drops a client that half-closes before its answer.
            "(printf '\\0\\0\\0\\1\\v'; sleep 1) | /.capsule/bin/socat -t 2 - UNIX-CONNECT:$SSH_AUTH_SOCK | " +
              "od -An -tu1 | head -n 1",
            { args: ["-A"], env: { ...Deno.env.toObject(), ...env } },
          );
          assert.equal(
            raw.stdout.trim().split(/\s+/)[4],
            "12",
            `${raw.code} ${raw.stdout} ${raw.stderr} ` +
              JSON.stringify(capsule.logs().filter((r) => r.user === "pers").slice(-8)),
          );
          // The socket went with the connection, though the container stays.
          const after = await ssh(login("pers"), "ls -d /tmp/capsule-agent-* 2>/dev/null | wc -l");
          assert.equal(after.stdout.trim(), "0");

          // A user without agent forwarding gets no SSH_AUTH_SOCK.
          const closed = await ssh(login("closed"), 'echo "${SSH_AUTH_SOCK:-none}"', {
            args: ["-A"],
            env: { ...Deno.env.toObject(), ...env },
          });
          assert.equal(closed.stdout.trim(), "none");
        } finally {
          agent.kill("SIGTERM");
          await agent.status;
        }
      },
    );

    await t.step("deny by default: -R refused for a user without it, X11 always", async () => {
      const port = freePort();
      const refused = await ssh(login("closed"), "sleep 5", {
        args: ["-R", `${port}:127.0.0.1:${webPort}`, "-o", "ExitOnForwardFailure=yes"],
      });
      assert.equal(refused.code, 255);
      assert.match(refused.stderr, /remote port forwarding failed/);
      await capsule.waitForLog(
        (r) => r.event === "forward.refused" && /remote forwarding is off/.test(String(r.reason)),
        10_000,
      );
      const x11 = await ssh(login("demo"), "echo ran", {
        args: ["-X", "-v"],
        env: { ...Deno.env.toObject(), DISPLAY: ":0" },
      });
      assert.equal(x11.stdout, "ran\n");
      assert.match(x11.stderr, /X11 forwarding request failed/);
    });

    await t.step(
      "the listener is on the container's loopback: not reachable from the host or another container",
      async () => {
        for (const [user, reachable] of [["bridged", false], ["gateway", true]] as const) {
          const client = backgroundSsh(
            login(user),
            ["-R", `*:9300:127.0.0.1:${webPort}`, "-o", "ExitOnForwardFailure=yes"],
            { command: "sleep 30" },
          );
          try {
            // The container's address, from the engine.
            const ip = await pollUntil(async () => {
              const ids = await run([
                "docker",
                "ps",
                "-q",
                "--filter",
                `label=io.capsule.instance=${capsule.instance}`,
                "--filter",
                `label=io.capsule.user=${user}`,
              ]);
              const id = ids.stdout.trim().split("\n")[0];
              if (!id) return "";
              const inspect = await run([
                "docker",
                "inspect",
                "-f",
                "{{.NetworkSettings.IPAddress}}",
                id,
              ]);
              return inspect.stdout.trim();
            }, (ip) => ip !== "");
            await pollUntil(
              () => Promise.resolve(logs("forward.listen").some((r) => r.user === user)),
              (x) => x,
            );
            const fromHost = await run(["curl", "-s", "-m", "3", `http://${ip}:9300/`]);
            // busybox's wget crashes on a bridge network (static glibc, NSS); nc does not.
            // Its stdin stays open a while: busybox nc hangs up at stdin's EOF.
            const fromContainer = await run([
              "docker",
              "run",
              "--rm",
              "--network",
              "bridge",
              "busybox:latest",
              "sh",
              "-c",
              `(printf 'GET / HTTP/1.0\\r\\n\\r\\n'; sleep 3) | nc -w 3 ${ip} 9300`,
            ]);
            const body = fromContainer.stdout.split("\r\n\r\n")[1] ?? "";
            if (reachable) {
              assert.equal(fromHost.stdout, BODY, "gatewayPorts: true listens on every address");
              assert.equal(
                body,
                BODY,
                `${fromContainer.code} ${fromContainer.stdout} ${fromContainer.stderr} ${ip}`,
              );
            } else {
              assert.equal(fromHost.stdout, "", "the host reached a loopback listener");
              assert.notEqual(fromHost.code, 0);
              assert.equal(fromContainer.stdout, "", "another container reached it");
            }
          } finally {
            await client.stop();
          }
        }
      },
    );

    await t.step(
      "an attacker's requests: odd addresses and paths, too many listeners, too many channels",
      async () => {
        const client = await connectSsh2(login("conn"));
        const forwardIn = (address: string, port: number) =>
          new Promise<number>((resolve, reject) =>
            client.forwardIn(
              address,
              port,
              (error, bound) => error ? reject(error) : resolve(bound),
            )
          );
        const streamLocal = (path: string) =>
          new Promise<void>((resolve, reject) =>
            client.openssh_forwardInStreamLocal(path, (error) => error ? reject(error) : resolve())
          );
        try {
          // gatewayPorts is off: whatever the client names, the listener is on 127.0.0.1.
          const bound = await forwardIn("0.0.0.0", 0);
          assert.ok(bound > 0);
          await assert.rejects(forwardIn("127.0.0.1", 70000));
          await assert.rejects(streamLocal("/tmp/../etc/evil.sock"));
          await assert.rejects(streamLocal("relative.sock"));
          // The cap is 2 listeners: one more is fine, the next is refused.
          const second = await forwardIn("127.0.0.1", 0);
          await assert.rejects(forwardIn("127.0.0.1", 0));
          // The log line is read from capsule's output, which may trail the client's answer.
          await capsule.waitForLog(
            (r) =>
              r.event === "forward.refused" && /too many remote forwards/.test(String(r.reason)),
            10_000,
          );
          // 6 connections at once to a listener, with forwardsPerConnection 4: 4 reach the client.
          const held: { end(): void }[] = [];
          client.on("tcp connection", (_info, accept) => {
            const channel = accept();
            held.push(channel);
          });
          const opener = await new Promise<{ close(): void }>((resolve, reject) =>
            client.exec(
              `for i in 1 2 3 4 5 6; do /.capsule/bin/socat -u TCP:127.0.0.1:${second} - & done; sleep 3`,
              (error, channel) => error ? reject(error) : resolve(channel),
            )
          );
          await pollUntil(
            () =>
              Promise.resolve(
                logs("forward.refused").filter((r) =>
                  /too many forwarded channels/.test(String(r.reason))
                ).length,
              ),
            (n) => n >= 2,
          );
          assert.equal(held.length, 4);
          for (const channel of held) channel.end();
          opener.close();
        } finally {
          client.end();
        }
      },
    );

    await t.step(
      "the audit has remote and agent forwards: opened, closed with bytes, refused",
      async () => {
        const events = (await Deno.readTextFile(auditFile)).trim().split("\n").map((l) =>
          JSON.parse(l)
        );
        const of = (event: string, kind: string) =>
          events.filter((e) => e.event === event && e.kind === kind);
        assert.ok(of("forward.open", "remote").length >= 5);
        assert.ok(of("forward.close", "remote").some((e) => e.bytes_in >= 256 * 1024 * 1024));
        assert.ok(of("forward.close", "remote").some((e) => e.bytes_out >= 64 * 1024 * 1024));
        assert.ok(of("forward.open", "agent").length >= 2);
        assert.ok(of("forward.refused", "remote").some((e) => e.user === "closed" && e.prohibited));
        assert.ok(of("forward.refused", "agent").some((e) => e.user === "closed"));
      },
    );
  } finally {
    await web.shutdown();
    assert.equal(await capsule.stop(), 0);
    await Deno.remove(auditDir, { recursive: true });
  }
  await assertNoContainersLeft(20_000, capsule.instance);
});
