import assert from "node:assert/strict";
import { WebhookClient, WebhookFailure, webhookHttpClient } from "../../src/webhook/mod.ts";
import { makeTestPki, type TestPki } from "../helpers/test_pki.ts";
import { closedPort, startWebhook, type WebhookReply } from "../helpers/webhook_server.ts";

/** The failure `promise` rejects with. */
async function failure(promise: Promise<unknown>): Promise<WebhookFailure> {
  try {
    await promise;
  } catch (error) {
    assert.ok(error instanceof WebhookFailure, `expected a WebhookFailure, got ${error}`);
    return error;
  }
  assert.fail("expected the call to fail");
}

/** A server answering `replies` in turn (the last one from then on). */
async function scripted(replies: WebhookReply[]) {
  let next = 0;
  return await startWebhook(() => replies[Math.min(next++, replies.length - 1)]!);
}

function client(url: string, options: { retries?: number; timeoutMs?: number } = {}) {
  return new WebhookClient({
    url,
    timeoutMs: options.timeoutMs ?? 2000,
    retries: options.retries ?? 2,
    backoffMs: 1,
  });
}

Deno.test("WebhookClient posts JSON and returns the parsed answer of a 200", async () => {
  const server = await scripted([{ body: { config: { a: 1 } } }]);
  try {
    const answer = await client(server.url).post({ username: "alice" });
    assert.deepEqual(answer, { config: { a: 1 } });
    assert.deepEqual(server.requests.map((r) => r.body), [{ username: "alice" }]);
  } finally {
    await server.close();
  }
});

Deno.test("WebhookClient retries 5xx answers, and only as often as configured", async (t) => {
  await t.step("a 500, then a 200", async () => {
    const server = await scripted([{ status: 500 }, { status: 503 }, { body: { ok: true } }]);
    try {
      assert.deepEqual(await client(server.url).post({}), { ok: true });
      assert.equal(server.requests.length, 3);
    } finally {
      await server.close();
    }
  });
  await t.step("500 every time: 1 + retries calls", async () => {
    const server = await scripted([{ status: 500 }]);
    try {
      const failed = await failure(client(server.url, { retries: 3 }).post({}));
      assert.equal(failed.kind, "unavailable");
      assert.equal(failed.attempts, 4);
      assert.match(failed.message, /answered 500/);
      assert.equal(server.requests.length, 4);
    } finally {
      await server.close();
    }
  });
});

Deno.test("WebhookClient does not retry an answer that is not 5xx or not JSON", async (t) => {
  const cases: [string, WebhookReply, WebhookFailure["kind"], RegExp][] = [
    ["a 404", { status: 404, body: { error: "no" } }, "refused", /answered 404, not 200/],
    ["a 403", { status: 403 }, "refused", /answered 403/],
    ["a redirect, not followed", { status: 302 }, "refused", /answered 302/],
    ["garbage", { body: "<html>oops</html>" }, "invalid", /not JSON/],
    ["an answer too large", { body: { pad: "x".repeat(2 ** 20) } }, "invalid", /larger than/],
  ];
  for (const [name, reply, kind, message] of cases) {
    await t.step(name, async () => {
      const server = await scripted([reply, { body: { ok: true } }]);
      try {
        const failed = await failure(client(server.url).post({}));
        assert.equal(failed.kind, kind);
        assert.match(failed.message, message);
        assert.equal(failed.attempts, 1);
        assert.equal(server.requests.length, 1);
      } finally {
        await server.close();
      }
    });
  }
});

Deno.test("WebhookClient retries transport errors and timeouts", async (t) => {
  await t.step("nothing listens", async () => {
    const url = `http://127.0.0.1:${closedPort()}/config?token=SECRET`;
    const failed = await failure(client(url, { retries: 1 }).post({}));
    assert.equal(failed.kind, "unavailable");
    assert.equal(failed.attempts, 2);
    assert.match(failed.message, /cannot reach it/);
    assert.doesNotMatch(failed.message, /SECRET/);
  });
  await t.step("an answer slower than the timeout, then a quick one", async () => {
    const server = await scripted([{ delayMs: 5_000, body: {} }, { body: { quick: true } }]);
    try {
      const answer = await client(server.url, { timeoutMs: 200 }).post({});
      assert.deepEqual(answer, { quick: true });
      assert.equal(server.requests.length, 2);
    } finally {
      await server.close();
    }
  });
  await t.step("always slower than the timeout", async () => {
    const server = await scripted([{ delayMs: 5_000, body: {} }]);
    try {
      const failed = await failure(client(server.url, { timeoutMs: 100, retries: 1 }).post({}));
      assert.equal(failed.kind, "unavailable");
      assert.match(failed.message, /no answer within 0\.1 s/);
      assert.equal(failed.attempts, 2);
    } finally {
      await server.close();
    }
  });
});

Deno.test("WebhookClient stops at the caller's deadline, whatever retries remain", async () => {
  const server = await scripted([{ delayMs: 5_000, body: {} }]);
  try {
    const deadline = new AbortController();
    const hook = new WebhookClient({ url: server.url, timeoutMs: 10_000, retries: 10 });
    const call = failure(hook.post({}, { signal: deadline.signal }));
    // Aborts once the first call is in flight.
    while (server.requests.length === 0) await new Promise((r) => setTimeout(r, 5));
    deadline.abort();
    const failed = await call;
    assert.equal(failed.kind, "unavailable");
    assert.match(failed.message, /before the login deadline/);
    assert.equal(failed.attempts, 1);
    assert.equal(server.requests.length, 1);
  } finally {
    await server.close();
  }
});

Deno.test("WebhookClient over TLS: a custom CA, and a client certificate for mTLS", async (t) => {
  let pki: TestPki | undefined;
  try {
    pki = await makeTestPki();
    const { ca, clientCert, clientKey, otherCa } = pki;
    const tls = await startWebhook(() => ({ body: { tls: true } }), { tls: "tls", pki });
    const mtls = await startWebhook((r) => ({ body: { cn: r.clientCn } }), { tls: "mtls", pki });
    const call = async (url: string, files: Parameters<typeof webhookHttpClient>[0]) => {
      const httpClient = await webhookHttpClient(files);
      const hook = new WebhookClient({ url, timeoutMs: 2000, retries: 0, httpClient });
      try {
        return await hook.post({});
      } finally {
        httpClient?.close();
      }
    };
    const settings = { url: "", timeout: 2, retries: 0 };
    try {
      await t.step("the server's CA trusted", async () => {
        assert.deepEqual(await call(tls.url, { ...settings, caCert: ca }), { tls: true });
      });
      await t.step("a CA that did not sign it", async () => {
        const failed = await failure(call(tls.url, { ...settings, caCert: otherCa }));
        assert.equal(failed.kind, "unavailable");
      });
      await t.step("no CA: the system's do not know it", async () => {
        await failure(call(tls.url, settings));
      });
      await t.step("mTLS with the client certificate", async () => {
        const answer = await call(mtls.url, { ...settings, caCert: ca, clientCert, clientKey });
        assert.deepEqual(answer, { cn: "capsule" });
      });
      await t.step("mTLS without one: the server refuses the handshake", async () => {
        const failed = await failure(call(mtls.url, { ...settings, caCert: ca }));
        assert.equal(failed.kind, "unavailable");
        assert.equal(mtls.requests.length, 1);
      });
    } finally {
      await tls.close();
      await mtls.close();
    }
  } finally {
    if (pki) await Deno.remove(pki.dir, { recursive: true });
  }
});
