/**
 * End to end: local and dynamic forwarding (`ssh -L`, `ssh -D`) into the
 * container, with OpenSSH and curl, and through paramiko's and asyncssh's own
 * forwarding APIs: what `127.0.0.1` means, unix sockets, the shared modes,
 * deny by default, a target that is not there (with the channel-open reason
 * codes), the host's own ports, and 1 GiB with capsule's memory bounded.
 */
import assert from "node:assert/strict";
import { PYTHON } from "../helpers/adversary.ts";
import { DEMO_PASSWORD, demoPasswordHash, startDemoCapsule } from "../helpers/demo_capsule.ts";
import { assertNoContainersLeft, requireEngine } from "../helpers/docker.ts";
import { describe, run } from "../helpers/file_clients.ts";
import { Background, backgroundSsh, freePort } from "../helpers/background.ts";
import { pollUntil } from "../helpers/poll.ts";
import { rssGrowth } from "../helpers/rss.ts";
import type { Login } from "../helpers/ssh_client.ts";

const FORWARD_LOCAL = new URL("./clients/forward_local.py", import.meta.url).pathname;

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** OpenSSH with `-L`/`-D` forwards (-v: its "open failed" lines), running `command` (or -N). */
function forwarding(login: Login, forwards: string[], command?: string): Background {
  return backgroundSsh(login, [...forwards, "-o", "ExitOnForwardFailure=yes"], {
    verbose: true,
    ...(command === undefined ? {} : { command }),
  });
}

/** Reads everything a TCP server at `port` sends (after sending `request`), within `ms`. */
async function fetchTcp(
  port: number,
  request = "",
  ms = 10_000,
): Promise<Uint8Array<ArrayBuffer>> {
  let conn: Deno.TcpConn;
  try {
    conn = await Deno.connect({ hostname: "127.0.0.1", port });
  } catch {
    return new Uint8Array(); // the client's listener is not up yet
  }
  const timer = setTimeout(() => conn.close(), ms);
  try {
    if (request) await conn.write(new TextEncoder().encode(request));
    return new Uint8Array(await new Response(conn.readable).arrayBuffer());
  } catch {
    return new Uint8Array();
  } finally {
    clearTimeout(timer);
  }
}

/** HTTP GET through a forwarded port with busybox httpd behind it; "" when nothing answers. */
async function httpBody(port: number): Promise<string> {
  const raw = new TextDecoder().decode(
    await fetchTcp(port, "GET /index.html HTTP/1.0\r\nHost: x\r\n\r\n"),
  );
  return raw.includes("\r\n\r\n") ? raw.slice(raw.indexOf("\r\n\r\n") + 4) : "";
}

/** Retries `read` until it gives a non-empty value (the server in the container takes a moment). */
async function eventually(read: () => Promise<string>, ms = 15_000): Promise<string> {
  const deadline = Date.now() + ms;
  let value = await read();
  while (value === "" && Date.now() < deadline) {
    await sleep(200);
    value = await read();
  }
  return value;
}

/** What `clients/forward_local.py` reports for one target. */
interface PythonForward {
  length?: number;
  sha256?: string;
  text?: string;
  refused?: number;
  reason?: string;
}

/**
 * Runs `clients/forward_local.py` with paramiko or asyncssh: a session
 * running `serve`, then a forwarded channel per target (see the script).
 */
async function pythonForwards(
  library: "paramiko" | "asyncssh",
  login: Login,
  serve: string,
  targets: string[],
): Promise<{ session: string; results: Record<string, PythonForward> }> {
  const result = await run([
    PYTHON,
    "-B",
    FORWARD_LOCAL,
    library,
    "--port",
    String(login.port),
    "--user",
    login.user,
    "--password",
    login.password ?? DEMO_PASSWORD,
    "--serve",
    serve,
    ...targets,
  ], { timeoutMs: 60_000 });
  assert.equal(result.code, 0, `${library}: ${describe(result)}`);
  return JSON.parse(result.stdout.trim().split("\n").at(-1) ?? "");
}

const SERVE_PAGE = "mkdir -p /tmp/www && echo hello-from-the-container > /tmp/www/index.html && " +
  "httpd -f -p 127.0.0.1:8080 -h /tmp/www & sleep 30";

Deno.test("end to end: forwarding into the container", async (t) => {
  await requireEngine();
  const passwordHash = await demoPasswordHash();
  const auditDir = await Deno.makeTempDir({ prefix: "capsule-forward-audit-" });
  const auditFile = `${auditDir}/audit.log`;
  const { capsule, login: demo } = await startDemoCapsule({
    config: {
      audit: { file: auditFile },
      server: { maxStartupsPerSource: 30 },
      container: { forwarding: { local: true } },
      users: {
        pers: {
          passwordHash,
          container: { mode: "persistent", gracePeriod: 1, forwarding: { local: true } },
        },
        closed: { passwordHash, container: { forwarding: { local: false } } },
      },
    },
  });
  const login = (user: string): Login => ({ ...demo, user });
  const log = (event: string) => capsule.logs().filter((r) => r.event === event);

  try {
    for (const user of ["demo", "pers"]) {
      await t.step(`${user}: -L and -D reach the container's own loopback`, async () => {
        const local = freePort();
        const socks = freePort();
        const client = forwarding(
          login(user),
          ["-L", `${local}:127.0.0.1:8080`, "-D", String(socks)],
          SERVE_PAGE,
        );
        try {
          assert.equal(await eventually(() => httpBody(local)), "hello-from-the-container\n");
          const curl = await new Deno.Command("curl", {
            args: [
              "-s",
              "-m",
              "10",
              "--socks5-hostname",
              `127.0.0.1:${socks}`,
              "http://127.0.0.1:8080/index.html",
            ],
          }).output();
          assert.equal(new TextDecoder().decode(curl.stdout), "hello-from-the-container\n");
        } finally {
          await client.stop();
        }
        assert.ok(log("forward.open").length >= 2);
      });
    }

    await t.step("-L to a unix socket in the container", async () => {
      const local = freePort();
      const client = forwarding(
        demo,
        ["-L", `${local}:/tmp/app.sock`],
        '/.capsule/bin/socat UNIX-LISTEN:/tmp/app.sock,fork SYSTEM:"echo unix-ok" & sleep 30',
      );
      try {
        const text = await eventually(async () => new TextDecoder().decode(await fetchTcp(local)));
        assert.equal(text, "unix-ok\n");
      } finally {
        await client.stop();
      }
    });

    await t.step(
      "a port nobody listens on in the container, capsule's own included, gives nothing",
      async () => {
        const local = freePort();
        const client = forwarding(
          demo,
          ["-L", `${local}:127.0.0.1:${capsule.port}`],
          "sleep 30",
        );
        try {
          await sleep(1_500); // the session's container is up
          const bytes = await fetchTcp(local);
          assert.equal(bytes.length, 0, "capsule's host listener answered through the container");
          // Read from capsule's output, which may trail what the client saw.
          const refused = await capsule.waitForLog(
            (r) => r.event === "forward.refused" && r.port === capsule.port,
            10_000,
          );
          assert.match(String(refused.reason), /could not connect/);
        } finally {
          const stderr = await client.stop();
          assert.match(stderr, /connect failed/);
        }
      },
    );

    await t.step(
      "the host's own ports and sockets are out of reach: the engine's socket, the bridge's gateway, a host service",
      async () => {
        // Something listening on the host's loopback, as an sshd would.
        const service = Deno.listen({ hostname: "127.0.0.1", port: 0 });
        const servicePort = (service.addr as Deno.NetAddr).port;
        void (async () => {
          for await (const conn of service) {
            await conn.write(new TextEncoder().encode("SSH-2.0-host-service\r\n")).catch(() => {});
            conn.close();
          }
        })().catch(() => {});
        const targets = [
          "/var/run/docker.sock",
          "/run/docker.sock",
          `127.0.0.1:${servicePort}`,
          `172.17.0.1:${capsule.port}`,
          `172.17.0.1:${servicePort}`,
        ];
        const locals = targets.map(() => freePort());
        const client = forwarding(
          demo,
          targets.flatMap((target, i) => ["-L", `${locals[i]}:${target}`]),
          "sleep 30",
        );
        try {
          await sleep(1_500); // the session's container is up
          for (const [i, target] of targets.entries()) {
            const bytes = await fetchTcp(locals[i]!, "GET / HTTP/1.0\r\n\r\n", 5_000);
            assert.equal(bytes.length, 0, `${target} answered through the container`);
          }
          const refused = log("forward.refused").slice(-targets.length);
          assert.equal(refused.length, targets.length);
          for (const record of refused) {
            assert.match(String(record.reason), /could not connect|did not connect/);
          }
        } finally {
          await client.stop();
          service.close();
        }
      },
    );

    await t.step(
      "forwarding is refused for a user without it, and with no session running",
      async () => {
        for (
          const [user, command, reason] of [
            ["closed", "sleep 30", /forwarding is off/],
            ["demo", undefined, /no session is running/],
          ] as const
        ) {
          const local = freePort();
          const client = forwarding(login(user), ["-L", `${local}:127.0.0.1:8080`], command);
          try {
            await sleep(1_500);
            assert.equal((await fetchTcp(local)).length, 0);
          } finally {
            const stderr = await client.stop();
            assert.match(stderr, /administratively prohibited/, `${user}: ${stderr}`);
          }
          await capsule.waitForLog(
            (r) => r.event === "forward.refused" && reason.test(String(r.reason)),
            10_000,
          );
        }
      },
    );

    await t.step(
      "1 GiB through -L arrives byte-exact; a stalled reader holds capsule's memory",
      async () => {
        const local = freePort();
        const size = 1024 * 1024 * 1024;
        // Generated as it is sent, never stored (the container may write 1 GiB at most):
        // tee feeds a fifo that sha256sum reads, so the sum is of exactly what was sent.
        const client = forwarding(
          demo,
          ["-L", `${local}:127.0.0.1:9000`],
          "mkfifo /tmp/sent && { sha256sum < /tmp/sent & } && " +
            `head -c ${size} /dev/urandom | tee /tmp/sent | ` +
            "/.capsule/bin/socat -u STDIN TCP-LISTEN:9000,bind=127.0.0.1,reuseaddr; sleep 600",
        );
        try {
          // Connect, then read nothing for a while: the relay pushes, capsule must hold back.
          let conn: Deno.TcpConn | undefined;
          for (let i = 0; i < 100 && conn === undefined; i++) {
            await sleep(300);
            let attempt: Deno.TcpConn;
            try {
              attempt = await Deno.connect({ hostname: "127.0.0.1", port: local });
            } catch (error) {
              if (error instanceof Deno.errors.ConnectionRefused) continue;
              throw error;
            }
            const reader = attempt.readable.getReader();
            const first = await reader.read();
            if (first.done) continue; // the relay was not listening yet
            conn = attempt;
            const growth = await rssGrowth(capsule.pid, sleep(8_000));
            assert.ok(
              growth < 64 * 1024 * 1024,
              `RSS grew by ${growth >> 20} MiB while the reader stalled`,
            );
            // Hashed as it streams, by a sha256sum child: the test holds no payload either.
            const hasher = new Deno.Command("sha256sum", { stdin: "piped", stdout: "piped" })
              .spawn();
            const writer = hasher.stdin.getWriter();
            let total = 0;
            let next: ReadableStreamReadResult<Uint8Array> = first;
            for (; !next.done; next = await reader.read()) {
              total += next.value.length;
              await writer.write(next.value);
            }
            await writer.close();
            const received = new TextDecoder().decode((await hasher.output()).stdout);
            assert.equal(total, size);
            const sent = await pollUntil(
              () => Promise.resolve(client.stdout),
              (text) => /^[0-9a-f]{64}\b/m.test(text),
            );
            assert.equal(received.split(" ")[0], sent.trim().split(" ")[0], "the bytes differ");
          }
          assert.ok(conn, "the forward never connected");
        } finally {
          await client.stop();
        }
      },
    );

    await t.step(
      "paramiko and asyncssh: direct-tcpip and direct-streamlocal byte-exact, refusals with their reason codes",
      async () => {
        const serve = "mkdir -p /tmp/www && echo page-for-python > /tmp/www/index.html && " +
          "httpd -p 127.0.0.1:9103 -h /tmp/www && " +
          "head -c 1048576 /dev/urandom > /tmp/blob && sha256sum /tmp/blob && " +
          "{ /.capsule/bin/socat -U TCP-LISTEN:9102,bind=127.0.0.1,reuseaddr,fork FILE:/tmp/blob & " +
          "/.capsule/bin/socat -U UNIX-LISTEN:/tmp/blob.sock,fork FILE:/tmp/blob & } && " +
          "until netstat -ltn | grep -q 127.0.0.1:9102 && [ -S /tmp/blob.sock ]; do sleep 0.1; done && " +
          "echo ready && sleep 60";
        for (const library of ["paramiko", "asyncssh"] as const) {
          const unix = library === "asyncssh" ? ["--unix", "/tmp/blob.sock"] : [];
          const { session, results } = await pythonForwards(library, demo, serve, [
            "--tcp",
            "127.0.0.1:9102",
            "--tcp",
            "127.0.0.1:9199",
            "--http",
            "127.0.0.1:9103/index.html",
            ...unix,
          ]);
          const sum = session.match(/^([0-9a-f]{64}) +\/tmp\/blob$/m)?.[1];
          assert.ok(sum, `no sum in ${JSON.stringify(session)}`);
          for (const spec of ["127.0.0.1:9102", ...unix.slice(1)]) {
            assert.equal(results[spec]?.length, 1024 * 1024, `${library} ${spec}`);
            assert.equal(results[spec]?.sha256, sum, `${library} ${spec}: the bytes differ`);
          }
          assert.equal(results["127.0.0.1:9103/index.html"]?.text, "page-for-python\n");
          // SSH_OPEN_CONNECT_FAILED: nobody listens there.
          assert.equal(
            results["127.0.0.1:9199"]?.refused,
            2,
            `${library}: ${JSON.stringify(results)}`,
          );

          // SSH_OPEN_ADMINISTRATIVELY_PROHIBITED: this user may not forward.
          const off = await pythonForwards(library, login("closed"), "echo ready; sleep 30", [
            "--tcp",
            "127.0.0.1:9102",
          ]);
          assert.equal(off.results["127.0.0.1:9102"]?.refused, 1, `${library}: closed`);
        }
      },
    );

    await t.step(
      "the audit has every forward: opened, closed with its bytes, refused",
      async () => {
        const events = (await Deno.readTextFile(auditFile)).trim().split("\n").map((l) =>
          JSON.parse(l)
        );
        const opened = events.filter((e) => e.event === "forward.open");
        const closed = events.filter((e) => e.event === "forward.close");
        const refused = events.filter((e) => e.event === "forward.refused");
        assert.ok(opened.length >= 4, `${opened.length} forward.open`);
        assert.ok(closed.some((e) => e.bytes_out >= 1024 ** 3), "the big transfer's bytes");
        assert.ok(refused.some((e) => e.user === "closed" && e.prohibited === true));
        assert.ok(refused.some((e) => e.port === capsule.port && e.prohibited === false));
      },
    );
  } finally {
    assert.equal(await capsule.stop(), 0);
    await Deno.remove(auditDir, { recursive: true });
  }
  await assertNoContainersLeft(20_000, capsule.instance);
});
