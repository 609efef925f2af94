/**
 * End to end: local and dynamic forwarding (`ssh -L`, `ssh -D`) into the
 * container, with OpenSSH and curl: what `127.0.0.1` means, unix sockets,
 * the shared modes, deny by default, a target that is not there, the host's
 * own ports, and a big transfer with capsule's memory bounded.
 */
import assert from "node:assert/strict";
import { demoPasswordHash, startDemoCapsule } from "../helpers/demo_capsule.ts";
import { assertNoContainersLeft, requireEngine } from "../helpers/docker.ts";
import { rssGrowth } from "../helpers/rss.ts";
import { type Login, sshCommand } from "../helpers/ssh_client.ts";

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** A free TCP port on 127.0.0.1 for the client's end of a forward. */
function freePort(): number {
  const listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const port = (listener.addr as Deno.NetAddr).port;
  listener.close();
  return port;
}

/** An OpenSSH client with forwards, running `command` in the background until stopped. */
class Forwarding {
  readonly #child: Deno.ChildProcess;
  readonly stderr: Promise<string>;
  readonly stdout: Promise<string>;

  constructor(login: Login, forwards: string[], command?: string) {
    const [program, ...args] = sshCommand(login, command, [
      ...forwards,
      // -v, after the helpers' LogLevel=ERROR, shows OpenSSH's "open failed: ..." lines.
      "-v",
      "-o",
      "ExitOnForwardFailure=yes",
      ...(command === undefined ? ["-N"] : []),
    ]);
    this.#child = new Deno.Command(program!, {
      args,
      stdin: "null",
      stdout: "piped",
      stderr: "piped",
    }).spawn();
    this.stderr = new Response(this.#child.stderr).text();
    this.stdout = new Response(this.#child.stdout).text();
  }

  async stop(): Promise<string> {
    try {
      this.#child.kill("SIGTERM");
    } catch {
      // already gone
    }
    await this.#child.status;
    return await this.stderr;
  }
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
        const client = new Forwarding(
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
      const client = new Forwarding(
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
        const client = new Forwarding(
          demo,
          ["-L", `${local}:127.0.0.1:${capsule.port}`],
          "sleep 30",
        );
        try {
          await sleep(1_500); // the session's container is up
          const bytes = await fetchTcp(local);
          assert.equal(bytes.length, 0, "capsule's host listener answered through the container");
          const refused = log("forward.refused").at(-1);
          assert.equal(refused?.port, capsule.port);
          assert.match(String(refused?.reason), /could not connect/);
        } finally {
          const stderr = await client.stop();
          assert.match(stderr, /connect failed/);
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
          const client = new Forwarding(login(user), ["-L", `${local}:127.0.0.1:8080`], command);
          try {
            await sleep(1_500);
            assert.equal((await fetchTcp(local)).length, 0);
          } finally {
            const stderr = await client.stop();
            assert.match(stderr, /administratively prohibited/, `${user}: ${stderr}`);
          }
          assert.match(String(log("forward.refused").at(-1)?.reason), reason);
        }
      },
    );

    await t.step(
      "256 MiB through -L arrive byte-exact; a stalled reader holds capsule's memory",
      async () => {
        const local = freePort();
        const size = 256 * 1024 * 1024;
        const client = new Forwarding(
          demo,
          ["-L", `${local}:127.0.0.1:9000`],
          "head -c 268435456 /dev/urandom > /tmp/blob && sha256sum /tmp/blob && " +
            "/.capsule/bin/socat -u FILE:/tmp/blob TCP-LISTEN:9000,bind=127.0.0.1,reuseaddr & " +
            "sleep 90",
        );
        try {
          // Connect, then read nothing for a while: the relay pushes, capsule must hold back.
          let conn: Deno.TcpConn | undefined;
          for (let i = 0; i < 100 && conn === undefined; i++) {
            await sleep(300);
            try {
              const attempt = await Deno.connect({ hostname: "127.0.0.1", port: local });
              const reader = attempt.readable.getReader();
              const first = await reader.read();
              if (first.done) continue; // the relay was not listening yet
              conn = attempt;
              const growth = await rssGrowth(capsule.pid, sleep(8_000));
              assert.ok(
                growth < 64 * 1024 * 1024,
                `RSS grew by ${growth >> 20} MiB while the reader stalled`,
              );
              const chunks = [first.value];
              let total = first.value.length;
              for (let next = await reader.read(); !next.done; next = await reader.read()) {
                chunks.push(next.value);
                total += next.value.length;
              }
              const bytes = new Uint8Array(total);
              let at = 0;
              for (const chunk of chunks) {
                bytes.set(chunk, at);
                at += chunk.length;
              }
              assert.equal(bytes.length, size);
              const digest = Array.from(
                new Uint8Array(await crypto.subtle.digest("SHA-256", bytes)),
                (b) => b.toString(16).padStart(2, "0"),
              ).join("");
              await client.stop();
              assert.equal((await client.stdout).split(" ")[0], digest, "the bytes differ");
            } catch (error) {
              if (!(error instanceof Deno.errors.ConnectionRefused)) throw error;
            }
          }
          assert.ok(conn, "the forward never connected");
        } finally {
          await client.stop();
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
        assert.ok(closed.some((e) => e.bytes_out >= 256 * 1024 * 1024), "the big transfer's bytes");
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
