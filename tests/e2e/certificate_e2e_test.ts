/**
 * End to end: logins with OpenSSH user certificates made by `ssh-keygen -s`,
 * with OpenSSH, paramiko and asyncssh: a user only the certificate knows,
 * every way a certificate is refused, force-command, source-address, the
 * extensions that grant a pty and forwarding, and what reaches the log.
 */
import assert from "node:assert/strict";
import { backgroundSsh, freePort } from "../helpers/background.ts";
import { startDemoCapsule } from "../helpers/demo_capsule.ts";
import { assertNoContainersLeft, requireEngine } from "../helpers/docker.ts";
import { run } from "../helpers/file_clients.ts";
import { pollUntil } from "../helpers/poll.ts";
import { type Login, ssh } from "../helpers/ssh_client.ts";

const PYTHON_CLIENT = new URL("./clients/cert_login.py", import.meta.url).pathname;

Deno.test("end to end: OpenSSH user certificates", async (t) => {
  await requireEngine();
  const dir = await Deno.makeTempDir({ prefix: "capsule-certs-" });
  const keygen = async (args: string[]) => {
    const out = await run(["ssh-keygen", ...args]);
    assert.equal(out.code, 0, out.stderr);
  };
  await keygen(["-q", "-t", "ed25519", "-N", "", "-C", "ca", "-f", `${dir}/ca`]);
  await keygen(["-q", "-t", "ed25519", "-N", "", "-C", "file-ca", "-f", `${dir}/file_ca`]);
  await keygen(["-q", "-t", "ed25519", "-N", "", "-C", "rogue", "-f", `${dir}/rogue_ca`]);
  await keygen(["-q", "-t", "ed25519", "-N", "", "-f", `${dir}/user`]);
  const caLine = (await Deno.readTextFile(`${dir}/ca.pub`)).trim();
  let serial = 100;
  /** A certificate for `user.pub` with `args`; its path. */
  const certificate = async (args: string[], ca = "ca") => {
    const name = `c${++serial}`;
    await Deno.copyFile(`${dir}/user.pub`, `${dir}/${name}.pub`);
    await keygen([
      "-q",
      "-s",
      `${dir}/${ca}`,
      "-I",
      `cert-${serial}`,
      "-z",
      String(serial),
      ...args,
      `${dir}/${name}.pub`,
    ]);
    return `${dir}/${name}-cert.pub`;
  };
  const { capsule, login: demo } = await startDemoCapsule({
    config: {
      auth: {
        trustedUserCAKeys: [caLine, `${dir}/file_ca.pub`],
        revokedCertificates: { serials: ["13"] },
      },
      container: { forwarding: { local: true, agent: true } },
    },
  });
  const carol: Login = { port: demo.port, user: "carol", identityFile: `${dir}/user` };
  const withCert = (
    cert: string,
    login = carol,
    command = "echo in-as-$(id -un 2>/dev/null || echo x)",
  ) => ssh(login, command, { args: ["-o", `CertificateFile=${cert}`] });

  try {
    await t.step("a certificate logs in a user only it knows, from either CA", async () => {
      for (const ca of ["ca", "file_ca"]) {
        const cert = await certificate(["-n", "carol,dave"], ca);
        const result = await withCert(cert, carol, "echo certified");
        assert.equal(result.code, 0, result.stderr);
        assert.equal(result.stdout, "certified\n");
      }
      const accepted = capsule.logs().filter((r) =>
        r.event === "auth.accepted" && r.user === "carol"
      );
      assert.equal(accepted.length, 2);
      assert.match(String(accepted[0]?.certificate_id), /^cert-\d+$/);
      assert.deepEqual(accepted[0]?.certificate_principals, ["carol", "dave"]);
      assert.ok(accepted[0]?.certificate_serial);
    });

    await t.step(
      "refused: principal, validity, CA, type, critical option, revoked serial",
      async () => {
        const cases: [string[], string, RegExp][] = [
          [["-n", "dave"], "ca", /principals do not include "carol"/],
          [[], "ca", /no principals/],
          [["-n", "carol", "-V", "-3d:-1d"], "ca", /expired/],
          [["-n", "carol", "-V", "+1d:+3d"], "ca", /not yet valid/],
          [["-n", "carol"], "rogue_ca", /untrusted CA/],
          [["-n", "carol", "-O", "critical:verify-required"], "ca", /unknown critical option/],
          [["-n", "carol", "-O", "source-address=10.9.0.0/16"], "ca", /source address/],
        ];
        for (const [args, ca, reason] of cases) {
          const cert = await certificate(args, ca);
          const result = await withCert(cert);
          assert.equal(result.code, 255, `accepted: ${args.join(" ")}`);
          assert.match(result.stderr, /Permission denied/);
          await capsule.waitForLog(
            (r) => r.event === "auth.rejected" && reason.test(String(r.reason)),
            10_000,
          );
        }
        // Serial 13, revoked in the config.
        await Deno.copyFile(`${dir}/user.pub`, `${dir}/revoked.pub`);
        await keygen([
          "-q",
          "-s",
          `${dir}/ca`,
          "-I",
          "r",
          "-z",
          "13",
          "-n",
          "carol",
          `${dir}/revoked.pub`,
        ]);
        const revoked = await withCert(`${dir}/revoked-cert.pub`);
        assert.equal(revoked.code, 255);
        await capsule.waitForLog(
          (r) => r.event === "auth.rejected" && /serial 13 is revoked/.test(String(r.reason)),
          10_000,
        );
        // A host certificate: OpenSSH's client does not even offer it (the unit
        // tests send one). The plain key, without its certificate, is nobody's.
        const host = await certificate(["-n", "carol", "-h"]);
        assert.equal((await withCert(host)).code, 255);
        const bare = await ssh(carol, "true");
        assert.equal(bare.code, 255);
      },
    );

    await t.step("source-address that includes the client logs in", async () => {
      const cert = await certificate(["-n", "carol", "-O", "source-address=127.0.0.0/8,::1"]);
      const result = await withCert(cert, carol, "echo near");
      assert.equal(result.stdout, "near\n", result.stderr);
    });

    await t.step("force-command runs instead, with SSH_ORIGINAL_COMMAND", async () => {
      const cert = await certificate([
        "-n",
        "carol",
        "-O",
        'force-command=echo "forced<$SSH_ORIGINAL_COMMAND>"',
      ]);
      const exec = await withCert(cert, carol, "echo asked");
      assert.equal(exec.stdout, "forced<echo asked>\n", exec.stderr);
      await Deno.writeTextFile(`${dir}/batch`, "ls /\n");
      const sftp = await run([
        "sftp",
        "-b",
        `${dir}/batch`,
        "-F",
        "/dev/null",
        "-P",
        String(carol.port),
        "-i",
        carol.identityFile!,
        "-o",
        `CertificateFile=${cert}`,
        "-o",
        "IdentitiesOnly=yes",
        "-o",
        "StrictHostKeyChecking=no",
        "-o",
        "UserKnownHostsFile=/dev/null",
        "carol@127.0.0.1",
      ]);
      assert.notEqual(sftp.code, 0, "sftp got past the forced command");
    });

    await t.step("the extensions: no permit-pty, no port forwarding, no agent", async () => {
      const cert = await certificate(["-n", "carol", "-O", "clear"]);
      // OpenSSH's client gives up when a forced (-tt) PTY is refused, as against sshd.
      const pty = await ssh(carol, "tty", { args: ["-tt", "-o", `CertificateFile=${cert}`] });
      assert.equal(pty.code, 255);
      assert.match(pty.stderr, /PTY allocation request failed/);
      await capsule.waitForLog((r) => r.event === "session.pty_refused", 10_000);
      const local = freePort();
      const forward = backgroundSsh(
        carol,
        ["-o", `CertificateFile=${cert}`, "-L", `${local}:127.0.0.1:8080`],
        { command: "sleep 20", verbose: true },
      );
      try {
        await forward.waitFor(/Local forwarding listening|Entering interactive session/, "stderr");
        await new Promise((r) => setTimeout(r, 1_000)); // the session's container is up
        const conn = await Deno.connect({ hostname: "127.0.0.1", port: local });
        await conn.readable.cancel().catch(() => {});
        await forward.waitFor(/administratively prohibited/, "stderr");
      } finally {
        await forward.stop();
      }
      await capsule.waitForLog((r) =>
        r.event === "forward.refused" &&
        /certificate does not permit port forwarding/.test(String(r.reason)), 10_000);
      // No permit-agent-forwarding: `ssh -A` gets no SSH_AUTH_SOCK; the default certificate does.
      const socket = `${dir}/agent.sock`;
      const agent = new Deno.Command("ssh-agent", { args: ["-D", "-a", socket], stdout: "null" })
        .spawn();
      try {
        await pollUntil(() => Deno.stat(socket).then(() => true, () => false), (up) => up);
        const env = { ...Deno.env.toObject(), SSH_AUTH_SOCK: socket };
        const echo = 'echo "${SSH_AUTH_SOCK:-none}"';
        const denied = await ssh(carol, echo, {
          args: ["-A", "-o", `CertificateFile=${cert}`],
          env,
        });
        assert.equal(denied.stdout, "none\n", denied.stderr);
        const allowed = await ssh(carol, echo, {
          args: ["-A", "-o", `CertificateFile=${await certificate(["-n", "carol"])}`],
          env,
        });
        assert.match(allowed.stdout, /^\/tmp\/capsule-agent-/, allowed.stderr);
      } finally {
        agent.kill("SIGTERM");
        await agent.status;
      }
      await capsule.waitForLog(
        (r) =>
          r.event === "forward.refused" &&
          /does not permit agent forwarding/.test(String(r.reason)),
        10_000,
      );
      // With the defaults (permit-pty, permit-port-forwarding), both work.
      const full = await certificate(["-n", "carol"]);
      const tty = await ssh(carol, "tty >/dev/null && echo has-tty", {
        args: ["-tt", "-o", `CertificateFile=${full}`],
      });
      assert.match(tty.stdout, /has-tty/);
    });

    await t.step(
      "paramiko and asyncssh log in with a certificate; a bad one is refused",
      async () => {
        const good = await certificate(["-n", "carol"]);
        const expired = await certificate(["-n", "carol", "-V", "-3d:-1d"]);
        /** A login with `cert` through the Python client; its JSON answer. */
        const login = async (library: string, cert: string, command: string) => {
          const out = await run([
            "/usr/bin/python3",
            PYTHON_CLIENT,
            library,
            String(carol.port),
            "carol",
            carol.identityFile!,
            cert,
            command,
          ]);
          return { ...JSON.parse(out.stdout.trim().split("\n").at(-1)!), stderr: out.stderr };
        };
        for (const library of ["paramiko", "asyncssh"]) {
          const { stderr, ...result } = await login(library, good, "echo via-python");
          assert.deepEqual(result, { stdout: "via-python\n", status: 0 }, `${library}: ${stderr}`);
          const refused = await login(library, expired, "echo no");
          assert.ok(refused.error, `${library} logged in with an expired certificate`);
        }
      },
    );
  } finally {
    assert.equal(await capsule.stop(), 0);
    await Deno.remove(dir, { recursive: true });
  }
  await assertNoContainersLeft(20_000, capsule.instance);
});
