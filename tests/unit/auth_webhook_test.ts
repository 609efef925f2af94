import assert from "node:assert/strict";
import { AuthWebhook } from "../../src/webhook/mod.ts";
import type { AuthWebhookConfig } from "../../src/config/types.ts";

const login = { username: "alice", connectionId: "c1", remoteAddress: "127.0.0.1:5000" };

/** An auth webhook against a loopback server that answers `answer` to everything; the bodies it got. */
async function withHook(
  answer: (path: string, body: Record<string, unknown>) => Response,
  format: AuthWebhookConfig["format"],
  run: (
    hook: AuthWebhook,
    seen: { path: string; body: Record<string, unknown> }[],
  ) => Promise<void>,
) {
  const seen: { path: string; body: Record<string, unknown> }[] = [];
  const server = Deno.serve(
    { hostname: "127.0.0.1", port: 0, onListen: () => {} },
    async (request) => {
      const path = new URL(request.url).pathname;
      const body = await request.json();
      seen.push({ path, body });
      return answer(path, body);
    },
  );
  try {
    const hook = new AuthWebhook({
      url: `http://127.0.0.1:${server.addr.port}/hook`,
      format,
      timeout: 2,
      retries: 0,
    });
    await run(hook, seen);
  } finally {
    await server.shutdown();
  }
}

const signal = () => AbortSignal.timeout(10_000);

Deno.test("AuthWebhook (capsule): answers that are not valid deny, with the reason", async (t) => {
  for (
    const [name, body, reason] of [
      ["no version", { result: "allow" }, /version/],
      ["an unknown result", { version: 1, result: "maybe" }, /result/],
      ["prompt without prompts", { version: 1, result: "prompt" }, /prompts/],
      ["a profile that is no name", { version: 1, result: "allow", profile: "../x" }, /profile/],
      ["nine prompts", {
        version: 1,
        result: "prompt",
        prompts: Array(9).fill({ prompt: "Q: ", echo: true }),
      }, /prompts/],
    ] as const
  ) {
    await t.step(name, () =>
      withHook(() => Response.json(body), "capsule", async (hook) => {
        const verdict = await hook.password(login, "pw", signal());
        assert.equal(verdict.result, "deny");
        assert.match(verdict.result === "deny" ? verdict.reason : "", reason);
      }));
  }
});

Deno.test("AuthWebhook (capsule): the request, and a prompt that posts its answers back with the state", async () => {
  let round = 0;
  await withHook(
    (_path, body) => {
      if (body.method === "password") {
        return Response.json({
          version: 1,
          result: "prompt",
          prompts: [{ prompt: "Code: ", echo: false }],
          state: "s1",
          profile: "php",
        });
      }
      round++;
      return Response.json(
        round === 1
          ? {
            version: 1,
            result: "prompt",
            prompts: [{ prompt: "Again: ", echo: true }],
            state: "s2",
          }
          : { version: 1, result: "allow" },
      );
    },
    "capsule",
    async (hook, seen) => {
      const verdict = await hook.password({ ...login, clientVersion: "SSH-2.0-x" }, "pw", signal());
      assert.equal(verdict.result, "challenge");
      if (verdict.result !== "challenge") return;
      assert.equal(verdict.profile, "php");
      assert.deepEqual(seen[0]!.body, {
        version: 1,
        username: "alice",
        remoteAddress: "127.0.0.1:5000",
        connectionId: "c1",
        clientVersion: "SSH-2.0-x",
        method: "password",
        password: "pw",
      });
      const first = await verdict.challenge.answer(["123"]);
      assert.equal(first.result, "continue");
      assert.deepEqual(seen[1]!.body.responses, ["123"]);
      assert.equal(seen[1]!.body.state, "s1");
      if (first.result !== "continue") return;
      assert.equal(first.challenge.prompts[0]!.prompt, "Again: ");
      assert.deepEqual(await first.challenge.answer(["456"]), { result: "accepted" });
      assert.equal(seen[2]!.body.state, "s2");
    },
  );
});

Deno.test("AuthWebhook (containerssh): /password with base64, /pubkey, and success decides", async () => {
  await withHook(
    (path, body) => {
      if (path === "/hook/password") {
        return Response.json({
          success: atob(String(body.passwordBase64)) === "pässword" ? false : true,
        });
      }
      if (path === "/hook/pubkey") {
        return Response.json({
          success: body.publicKey === "ssh-ed25519 AAAA",
        });
      }
      return new Response("", { status: 404 });
    },
    "containerssh",
    async (hook, seen) => {
      const password = await hook.password(login, "secret", signal());
      assert.equal(password.result, "allow");
      assert.equal(seen[0]!.path, "/hook/password");
      assert.equal(seen[0]!.body.passwordBase64, btoa("secret"));
      const key = await hook.publicKey(login, "ssh-ed25519 AAAA", "SHA256:x", signal());
      assert.equal(key.result, "allow");
      assert.equal(seen[1]!.path, "/hook/pubkey");
      const other = await hook.publicKey(login, "ssh-ed25519 BBBB", "SHA256:y", signal());
      assert.equal(other.result, "deny");
    },
  );
  await withHook(() => Response.json({ ok: true }), "containerssh", async (hook) => {
    const verdict = await hook.password(login, "x", signal());
    assert.equal(verdict.result, "deny");
  });
});
