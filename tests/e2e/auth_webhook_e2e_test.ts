/**
 * End to end: the auth webhook, in capsule's format and in ContainerSSH's,
 * with OpenSSH and paramiko: a password and a key the config does not know,
 * a profile named by the answer, questions asked through keyboard-interactive,
 * and every way the webhook can fail (down, slow, 500, garbage): a clear
 * refusal within the login deadline, the config's own users still served,
 * and no password in any log line.
 */
import assert from "node:assert/strict";
import { DEMO_PASSWORD, demoPasswordHash, startDemoCapsule } from "../helpers/demo_capsule.ts";
import { assertNoContainersLeft, requireEngine } from "../helpers/docker.ts";
import { run } from "../helpers/file_clients.ts";
import { type Login, ssh } from "../helpers/ssh_client.ts";
import {
  closedPort,
  startWebhook,
  type WebhookReply,
  type WebhookRequest,
} from "../helpers/webhook_server.ts";

const OUTSIDE_PASSWORD = "from-the-panel-42";
const PIN = "8642";
const PYTHON_CLIENT = new URL("./clients/totp_login.py", import.meta.url).pathname;

/** What the panel behind the webhook knows, in capsule's format. */
function panel(request: WebhookRequest, publicKey: string): WebhookReply {
  const body = request.body;
  const user = String(body.username);
  if (body.version !== 1) return { status: 400 };
  switch (body.method) {
    case "password":
      if (user === "webber" && body.password === OUTSIDE_PASSWORD) {
        return { body: { version: 1, result: "allow", profile: "panel" } };
      }
      if (user === "pinned" && body.password === OUTSIDE_PASSWORD) {
        return {
          body: {
            version: 1,
            result: "prompt",
            prompts: [{ prompt: "PIN: ", echo: false }],
            state: "pin-for-pinned",
          },
        };
      }
      return { body: { version: 1, result: "deny", reason: "unknown to the panel" } };
    case "publickey": {
      // A certificate from the panel's own CA: its key id and principals decide.
      const certificate = body.certificate as { keyId: string; principals: string[] } | undefined;
      if (certificate) {
        return certificate.keyId === "panel-issued" && certificate.principals.includes(user)
          ? { body: { version: 1, result: "allow" } }
          : { body: { version: 1, result: "deny", reason: "not the panel's certificate" } };
      }
      return body.publicKey === publicKey && user === "keyed"
        ? { body: { version: 1, result: "allow" } }
        : { body: { version: 1, result: "deny" } };
    }
    case "keyboard-interactive": {
      const responses = body.responses as string[];
      return body.state === "pin-for-pinned" && responses[0] === PIN
        ? { body: { version: 1, result: "allow" } }
        : { body: { version: 1, result: "deny", reason: "wrong PIN" } };
    }
  }
  return { status: 400 };
}

Deno.test("end to end: the auth webhook (capsule's format)", async (t) => {
  await requireEngine();
  const dir = await Deno.makeTempDir({ prefix: "capsule-authhook-" });
  const key = `${dir}/id`;
  assert.equal((await run(["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-f", key])).code, 0);
  const publicKey = (await Deno.readTextFile(`${key}.pub`)).trim().split(" ").slice(0, 2).join(" ");
  let mode: "panel" | "500" | "garbage" | "slow" = "panel";
  const hook = await startWebhook((request) => {
    if (mode === "500") return { status: 500 };
    if (mode === "garbage") return { body: "<html>oops</html>" };
    if (mode === "slow") return { delayMs: 3_000, body: { version: 1, result: "allow" } };
    return panel(request, publicKey);
  });
  const { capsule, login: demo } = await startDemoCapsule({
    config: {
      webhooks: { auth: { url: hook.url, timeout: 1, retries: 1 } },
      profiles: { panel: { env: { FROM_PROFILE: "panel-profile" } } },
    },
  });
  const as = (user: string, password = OUTSIDE_PASSWORD): Login => ({ ...demo, user, password });
  try {
    await t.step(
      "a password only the webhook knows logs in, with the profile it names",
      async () => {
        const result = await ssh(as("webber"), 'echo "in:$FROM_PROFILE"');
        assert.equal(result.code, 0, result.stderr);
        assert.equal(result.stdout, "in:panel-profile\n");
        const asked = hook.requests.find((r) => r.body.username === "webber");
        assert.equal(asked?.body.method, "password");
        assert.equal(asked?.body.password, OUTSIDE_PASSWORD);
        assert.match(String(asked?.body.remoteAddress), /^127\.0\.0\.1:\d+$/);
        assert.match(String(asked?.body.clientVersion), /^SSH-2\.0-OpenSSH/);
      },
    );

    await t.step("the config's own users are decided without it", async () => {
      const before = hook.requests.length;
      const result = await ssh(demo, "echo demo");
      assert.equal(result.stdout, "demo\n", result.stderr);
      assert.equal(hook.requests.length, before, "the webhook was asked about a configured user");
    });

    await t.step("a wrong password and an unknown user are refused by it", async () => {
      for (const login of [as("webber", "nope"), as("stranger")]) {
        const result = await ssh(login, "true");
        assert.equal(result.code, 255);
        assert.match(result.stderr, /Permission denied/);
      }
      await capsule.waitForLog(
        (r) => r.event === "auth.rejected" && /unknown to the panel/.test(String(r.reason)),
        10_000,
      );
    });

    await t.step(
      "a key only the webhook knows: asked after the signature, with its line",
      async () => {
        const keyed: Login = { port: demo.port, user: "keyed", identityFile: key };
        const result = await ssh(keyed, "echo keyed");
        assert.equal(result.stdout, "keyed\n", result.stderr);
        const asked = hook.requests.filter((r) => r.body.method === "publickey");
        assert.equal(asked.at(-1)?.body.publicKey, publicKey);
        assert.match(String(asked.at(-1)?.body.fingerprint), /^SHA256:/);
        const refused = await ssh({ ...keyed, user: "other" }, "true");
        assert.equal(refused.code, 255);
      },
    );

    await t.step(
      "a certificate from a CA the config does not trust: the webhook judges it",
      async () => {
        assert.equal(
          (await run(["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-f", `${dir}/ca`])).code,
          0,
        );
        const sign = async (id: string) => {
          await Deno.copyFile(`${key}.pub`, `${dir}/${id}.pub`);
          const out = await run([
            "ssh-keygen",
            "-q",
            "-s",
            `${dir}/ca`,
            "-I",
            id,
            "-n",
            "certified",
            `${dir}/${id}.pub`,
          ]);
          assert.equal(out.code, 0, out.stderr);
          return `${dir}/${id}-cert.pub`;
        };
        const certified: Login = { port: demo.port, user: "certified", identityFile: key };
        const ok = await ssh(certified, "echo certified", {
          args: ["-o", `CertificateFile=${await sign("panel-issued")}`],
        });
        assert.equal(ok.stdout, "certified\n", ok.stderr);
        const asked = hook.requests.filter((r) => r.body.certificate).at(-1)!;
        const facts = asked.body.certificate as Record<string, unknown>;
        assert.equal(facts.keyId, "panel-issued");
        assert.deepEqual(facts.principals, ["certified"]);
        assert.match(String(facts.ca), /^SHA256:/);
        assert.match(String(asked.body.publicKey), /^ssh-ed25519-cert-v01@openssh\.com /);
        const refused = await ssh(certified, "true", {
          args: ["-o", `CertificateFile=${await sign("someone-else")}`],
        });
        assert.equal(refused.code, 255);
      },
    );

    await t.step(
      "its questions come as keyboard-interactive: right PIN in, wrong PIN out",
      async () => {
        const login = async (pins: string) => {
          const out = await run([
            "/usr/bin/python3",
            PYTHON_CLIENT,
            "paramiko",
            String(demo.port),
            "pinned",
            OUTSIDE_PASSWORD,
            pins,
            "echo pinned-in",
          ]);
          return JSON.parse(out.stdout.trim().split("\n").at(-1)!);
        };
        const ok = await login(PIN);
        assert.equal(ok.stdout, "pinned-in\n", JSON.stringify(ok));
        assert.deepEqual(ok.after_password, ["keyboard-interactive"]);
        assert.ok(JSON.stringify(ok.prompts).includes("PIN: "));
        const wrong = await login("0000");
        assert.ok(wrong.error || wrong.status !== 0, JSON.stringify(wrong));
        const answers = hook.requests.filter((r) => r.body.method === "keyboard-interactive");
        assert.ok(answers.every((r) => r.body.state === "pin-for-pinned"));
      },
    );

    await t.step(
      "down, 500, garbage, too slow: refused, and the config's users still get in",
      async () => {
        for (const failure of ["500", "garbage", "slow"] as const) {
          mode = failure;
          const started = performance.now();
          const result = await ssh(as("webber"), "true");
          assert.equal(result.code, 255, `${failure}: logged in`);
          assert.ok(performance.now() - started < 60_000);
          const demoResult = await ssh(demo, "echo still");
          assert.equal(demoResult.stdout, "still\n", `${failure}: ${demoResult.stderr}`);
        }
        mode = "panel";
        const reasons = capsule.logs().filter((r) => r.event === "auth.rejected").map((r) =>
          String(r.reason)
        );
        assert.ok(reasons.some((r) => /answered 500/.test(r)), reasons.join("\n"));
        assert.ok(reasons.some((r) => /not JSON/.test(r)), reasons.join("\n"));
        assert.ok(reasons.some((r) => /no answer within/.test(r)), reasons.join("\n"));
      },
    );

    await t.step("no password reaches capsule's log", () => {
      const text = JSON.stringify(capsule.logs());
      for (const secret of [OUTSIDE_PASSWORD, DEMO_PASSWORD, PIN]) {
        assert.ok(!text.includes(secret), `"${secret}" is in the log`);
      }
    });
  } finally {
    assert.equal(await capsule.stop(), 0);
    await hook.close();
    await Deno.remove(dir, { recursive: true });
  }
  await assertNoContainersLeft(20_000, capsule.instance);
});

Deno.test("end to end: the auth webhook in ContainerSSH's format, and down", async () => {
  await requireEngine();
  const hook = await startWebhook((request) => {
    const body = request.body;
    if (request.path.endsWith("/password")) {
      const password = new TextDecoder().decode(
        Uint8Array.from(atob(String(body.passwordBase64)), (c) => c.charCodeAt(0)),
      );
      return { body: { success: body.username === "csshuser" && password === OUTSIDE_PASSWORD } };
    }
    return { body: { success: false } };
  });
  const passwordHash = await demoPasswordHash();
  const { capsule, login: demo } = await startDemoCapsule({
    config: {
      webhooks: { auth: { url: hook.url.replace(/\/config$/, "/auth"), format: "containerssh" } },
      users: { other: { passwordHash } },
    },
  });
  try {
    const ok = await ssh({ ...demo, user: "csshuser", password: OUTSIDE_PASSWORD }, "echo cssh");
    assert.equal(ok.stdout, "cssh\n", ok.stderr);
    const asked = hook.requests.at(-1)!;
    assert.equal(asked.path, "/auth/password");
    assert.deepEqual(
      Object.keys(asked.body).sort(),
      [
        "clientVersion",
        "connectionId",
        "environment",
        "files",
        "metadata",
        "passwordBase64",
        "remoteAddress",
        "username",
      ],
    );
    const refused = await ssh({ ...demo, user: "csshuser", password: "wrong" }, "true");
    assert.equal(refused.code, 255);
  } finally {
    assert.equal(await capsule.stop(), 0);
    await hook.close();
  }
  await assertNoContainersLeft(20_000, capsule.instance);

  // The webhook down: a clear refusal, quickly enough for the login deadline.
  const down = await startDemoCapsule({
    config: { webhooks: { auth: { url: `http://127.0.0.1:${closedPort()}/auth`, retries: 1 } } },
  });
  try {
    const result = await ssh({ ...down.login, user: "nobody-here", password: "x" }, "true");
    assert.equal(result.code, 255);
    await down.capsule.waitForLog(
      (r) => r.event === "auth.rejected" && /cannot reach it/.test(String(r.reason)),
      10_000,
    );
    const demoResult = await ssh(down.login, "echo up");
    assert.equal(demoResult.stdout, "up\n");
  } finally {
    assert.equal(await down.capsule.stop(), 0);
  }
});
