/**
 * End to end: the audit log and the metrics of the real capsule, driven by
 * the real OpenSSH clients (`ssh`, `sftp`) and checked with `promtool`.
 */
import assert from "node:assert/strict";
import { logTail } from "../helpers/adversary.ts";
import { DEMO_PASSWORD, demoPasswordHash, startDemoCapsule } from "../helpers/demo_capsule.ts";
import { assertNoContainersLeft, requireEngine } from "../helpers/docker.ts";
import { sftpBatch } from "../helpers/file_clients.ts";
import { collect, connectSsh2, type Login, openChannel, ssh } from "../helpers/ssh_client.ts";

/** Where scripts/setup.sh --test puts promtool (from Debian's prometheus package). */
const PROMTOOL = Deno.env.get("CAPSULE_PROMTOOL") ?? "/var/cache/capsule/promtool";

type AuditLine = Record<string, unknown> & { v: number; seq: number; event: string };

/** The value of one series in a scrape; 0 when it is absent (not counted yet). */
function sample(text: string, series: string): number {
  const line = text.split("\n").find((l) => l.startsWith(series + " "));
  return line === undefined ? 0 : Number(line.slice(series.length + 1));
}

async function promtoolCheck(text: string): Promise<void> {
  const child = new Deno.Command(PROMTOOL, {
    args: ["check", "metrics"],
    stdin: "piped",
    stdout: "piped",
    stderr: "piped",
  }).spawn();
  const writer = child.stdin.getWriter();
  await writer.write(new TextEncoder().encode(text));
  await writer.close();
  const out = await child.output();
  const dec = new TextDecoder();
  assert.equal(
    out.code,
    0,
    `promtool check metrics failed:\n${dec.decode(out.stdout)}${dec.decode(out.stderr)}`,
  );
}

/** Runs OpenSSH's sftp in batch mode with a password, in a scratch folder holding local.txt. */
async function sftp(login: Login, batch: string): Promise<{ code: number; stderr: string }> {
  const dir = await Deno.makeTempDir();
  try {
    await Deno.writeTextFile(`${dir}/local.txt`, "hello sftp\n");
    const out = await sftpBatch(login, batch.trim().split("\n"), { dir, cwd: dir });
    return { code: out.code, stderr: out.stdout + out.stderr };
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
}

async function readAudit(path: string): Promise<AuditLine[]> {
  const text = await Deno.readTextFile(path).catch(() => "");
  return text.split("\n").filter((l) => l !== "").map((l) => JSON.parse(l));
}

/** Polls until `check` returns true or `ms` passed; returns what it last returned. */
async function eventually(check: () => Promise<boolean>, ms = 15_000): Promise<boolean> {
  const deadline = Date.now() + ms;
  while (Date.now() < deadline) {
    if (await check()) return true;
    await new Promise((r) => setTimeout(r, 100));
  }
  return await check();
}

Deno.test("end to end: audit log, metrics and health", async (t) => {
  await requireEngine();
  const auditDir = await Deno.makeTempDir({ prefix: "capsule-audit-" });
  const auditPath = `${auditDir}/logs/audit.log`;
  const { capsule, login } = await startDemoCapsule({
    config: {
      audit: { file: auditPath },
      recording: { dir: `${auditDir}/casts` },
      server: { metrics: { listen: "127.0.0.1:0" } },
      users: {
        nosftp: { passwordHash: await demoPasswordHash(), container: { sftp: { enabled: false } } },
      },
    },
  });
  const listening = await capsule.waitForLog((r) => r.event === "metrics.listening");
  const base = `http://127.0.0.1:${listening.port}`;
  const scrape = async () => {
    const response = await fetch(`${base}/metrics`);
    assert.equal(response.status, 200);
    assert.match(response.headers.get("content-type") ?? "", /^text\/plain; version=0\.0\.4/);
    return await response.text();
  };
  const status = async (path: string) => {
    const response = await fetch(`${base}${path}`);
    await response.body?.cancel();
    return response.status;
  };

  try {
    await t.step("/healthz answers 200 and /readyz 200 once the engine answered", async () => {
      assert.equal(await status("/healthz"), 200);
      assert.ok(await eventually(async () => (await status("/readyz")) === 200), "/readyz");
    });

    let after = "";
    await t.step("/metrics counts what clients did, and promtool accepts it", async () => {
      const before = await scrape();
      await promtoolCheck(before);

      const hi = await ssh(login, "echo hi");
      assert.equal(hi.code, 0, hi.stderr);
      assert.equal(hi.stdout, "hi\n");
      const three = await ssh(login, "exit 3");
      assert.equal(three.code, 3);
      const wrong = await ssh({ ...login, password: "wrong" }, "true");
      assert.equal(wrong.code, 255);
      const files = await sftp(
        login,
        "put local.txt /tmp/up.txt\nmkdir /tmp/d\nrename /tmp/up.txt /tmp/d/up.txt\nrm /tmp/d/up.txt\nrmdir /tmp/d\n",
      );
      assert.equal(files.code, 0, files.stderr);
      assert.doesNotMatch(
        files.stderr,
        /open "|close "|session opened/,
        "no sftp-server log in the client",
      );
      const refused = await sftp({ ...login, user: "nosftp" }, "ls /\n");
      assert.notEqual(refused.code, 0);

      // Sessions end (and containers go) just after the client has its status.
      await assertNoContainersLeft(15_000, capsule.instance);
      assert.ok(
        await eventually(async () => sample(await scrape(), "capsule_sessions_live") === 0),
      );
      after = await scrape();
      await promtoolCheck(after);
      const delta = (series: string) => sample(after, series) - sample(before, series);
      assert.equal(delta("capsule_connections_total"), 5);
      assert.equal(sample(after, "capsule_connections_open"), 0);
      assert.equal(delta('capsule_auth_attempts_total{method="password",result="accepted"}'), 4);
      assert.equal(delta('capsule_auth_attempts_total{method="password",result="rejected"}'), 1);
      assert.equal(delta('capsule_sessions_total{kind="exec",result="started"}'), 2);
      assert.equal(delta('capsule_sessions_total{kind="subsystem",result="started"}'), 1);
      assert.equal(delta('capsule_sessions_total{kind="subsystem",result="refused"}'), 1);
      assert.equal(delta('capsule_session_exits_total{reason="exit_zero"}'), 2);
      assert.equal(delta('capsule_session_exits_total{reason="exit_nonzero"}'), 1);
      assert.equal(delta('capsule_containers_created_total{placement="session"}'), 3);
      assert.equal(delta("capsule_container_start_seconds_count"), 3);
      assert.equal(delta("capsule_session_setup_seconds_count"), 3);
      assert.equal(delta("capsule_login_seconds_count"), 4);
      assert.equal(sample(after, 'capsule_containers{state="running"}'), 0);
      assert.doesNotMatch(after, /demo|nosftp/, "no user name in any series");
    });

    await t.step("the audit file has every event, one versioned line each", async () => {
      const info = await Deno.stat(auditPath);
      assert.equal(info.mode! & 0o777, 0o600);
      assert.ok(
        await eventually(async () =>
          (await readAudit(auditPath)).some((l) =>
            l.event === "connection.close" && l.user === "nosftp"
          )
        ),
      );
      const text = await Deno.readTextFile(auditPath);
      assert.ok(!text.includes(DEMO_PASSWORD), "no password");
      assert.ok(!text.includes('"wrong"'), "no wrong password either");
      const lines = await readAudit(auditPath);
      lines.forEach((line, i) => {
        assert.equal(line.v, 1);
        assert.equal(line.seq, i + 1, "seq counts every line");
        for (const key of ["ts", "connection", "user", "remote"]) assert.ok(key in line, key);
      });
      const find = (event: string, match: (l: AuditLine) => boolean = () => true) => {
        const line = lines.find((l) => l.event === event && match(l));
        assert.ok(line, `no ${event} in:\n${text}`);
        return line;
      };
      const open = find("connection.open");
      assert.match(String(open.remote), /^127\.0\.0\.1:\d+$/);
      find("auth", (l) => l.result === "rejected" && l.method === "password");
      const start = find("session.start", (l) => l.command === "echo hi");
      assert.equal(start.kind, "exec");
      assert.equal(start.mode, "session");
      assert.equal(start.user, "demo");
      assert.match(String(start.container), /^[0-9a-f]{12}$/);
      const end = find("session.end", (l) => l.session === start.session);
      assert.equal(end.exit_code, 0);
      assert.equal(end.bytes_out, 3);
      assert.equal(typeof end.duration_ms, "number");
      find("session.end", (l) => l.exit_code === 3);
      find("container.create", (l) => l.container === start.container);
      find("container.remove", (l) => l.container === start.container);
      find("session.refused", (l) => l.user === "nosftp" && l.kind === "subsystem");
      const upload = find("sftp.close", (l) => l.path === "/tmp/up.txt");
      assert.equal(upload.bytes_written, 11);
      assert.equal(upload.user, "demo");
      find("sftp.open", (l) => l.path === "/tmp/up.txt");
      find("sftp.mkdir", (l) => l.path === "/tmp/d");
      find("sftp.rename", (l) => l.path === "/tmp/up.txt" && l.new_path === "/tmp/d/up.txt");
      find("sftp.remove", (l) => l.path === "/tmp/d/up.txt");
      find("sftp.rmdir", (l) => l.path === "/tmp/d");
      find("connection.close", (l) => l.reason === "client" && typeof l.duration_ms === "number");
    });

    await t.step("a TTY session is recorded in asciicast v2, which asciinema plays", async () => {
      const client = await connectSsh2(login);
      try {
        // The words are octal escapes in the command: only the output has them in UTF-8.
        const channel = await openChannel(
          client,
          { exec: "sleep 0.5; printf 'h\\303\\251llo w\\303\\266rld\\n'" },
          { pty: { term: "xterm", cols: 80, rows: 24 } },
        );
        const done = collect(channel);
        channel.setWindow(30, 100, 0, 0);
        const result = await done;
        assert.equal(result.code, 0);
        assert.match(result.stdout, /héllo wörld/);
      } finally {
        client.end();
      }
      const dir = `${auditDir}/casts`;
      let files: string[] = [];
      let text = "";
      assert.ok(
        await eventually(async () => {
          files = [];
          for await (const entry of Deno.readDir(dir)) files.push(entry.name);
          text = files.length === 1 ? await Deno.readTextFile(`${dir}/${files[0]}`) : "";
          return text.includes("wörld");
        }),
        `one recording with the output: ${files.join(", ")}: ${text}`,
      );
      const path = `${dir}/${files[0]}`;
      assert.equal((await Deno.stat(path)).mode! & 0o777, 0o600);
      assert.match(files[0]!, /-demo-[0-9a-f]+\.cast$/);
      const [header, ...events] = text.trim().split("\n").map((l) => JSON.parse(l));
      assert.equal(header.version, 2);
      assert.equal(header.width, 80);
      assert.equal(header.height, 24);
      assert.ok(events.some((e: unknown[]) => e[1] === "r" && e[2] === "100x30"), text);
      assert.ok(events.every((e: unknown[]) => e[1] !== "i"), "no input without recording.input");
      // asciinema cat reads /dev/tty; script(1) (bsdutils) gives it a terminal.
      const played = await new Deno.Command("script", {
        args: ["-q", "-e", "-c", `asciinema cat '${path}'`, "/dev/null"],
        stdout: "piped",
        stderr: "piped",
      }).output();
      const dec = new TextDecoder();
      assert.equal(played.code, 0, dec.decode(played.stderr));
      assert.match(dec.decode(played.stdout), /héllo wörld/);
    });

    await t.step("a full recording disk stops the recording, not the session", async () => {
      // A 64 KiB tmpfs over the recordings (the tests run as root, as CI does).
      const dir = `${auditDir}/casts`;
      const mount = await new Deno.Command("mount", {
        args: ["-t", "tmpfs", "-o", "size=64k", "tmpfs", dir],
        stderr: "piped",
      }).output();
      assert.equal(mount.code, 0, new TextDecoder().decode(mount.stderr));
      try {
        const client = await connectSsh2(login);
        try {
          const channel = await openChannel(
            client,
            { exec: "head -c 1048576 /dev/zero | tr '\\0' x; echo; echo the-end" },
            { pty: { term: "xterm", cols: 80, rows: 24 } },
          );
          const result = await collect(channel);
          assert.equal(result.code, 0);
          assert.match(result.stdout, /the-end/);
          assert.ok(result.stdout.length > 1024 * 1024, "every byte reached the client");
        } finally {
          client.end();
        }
        await capsule.waitForLog((r) => r.event === "recording.stopped");
        const still = await ssh(login, "echo still-serving");
        assert.equal(still.stdout, "still-serving\n");
      } finally {
        await new Deno.Command("umount", { args: [dir] }).output();
      }
    });

    await t.step("SIGHUP reopens the audit file (log rotation)", async () => {
      await Deno.rename(auditPath, `${auditPath}.1`);
      capsule.signal("SIGHUP");
      await capsule.waitForLog((r) =>
        r.event === "config.reloaded" || r.event === "config.reload_failed"
      )
        .catch(() => undefined);
      const result = await ssh(login, "echo rotated");
      assert.equal(result.code, 0, result.stderr);
      assert.ok(
        await eventually(async () =>
          (await readAudit(auditPath)).some((l) => l.command === "echo rotated")
        ),
        "the new file gets the new lines",
      );
      assert.equal((await Deno.stat(auditPath)).mode! & 0o777, 0o600);
    });
  } catch (error) {
    console.error(`capsule log (last 30 lines):\n${logTail(capsule, 30)}`);
    throw error;
  } finally {
    assert.equal(await capsule.stop("SIGTERM"), 0);
    await assertNoContainersLeft(15_000, capsule.instance);
    await Deno.remove(auditDir, { recursive: true });
  }
});
