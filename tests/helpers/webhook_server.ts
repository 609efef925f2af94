/**
 * A webhook server on loopback for tests: Deno's HTTP server (plain or with
 * TLS), or, for mutual TLS, `node:https` under Deno (Deno.serve cannot ask
 * for a client certificate). Each request's JSON body is kept; the test's
 * handler decides the answer.
 */
import https from "node:https";
import type { AddressInfo } from "node:net";
import type { TestPki } from "./test_pki.ts";

/** A received request: its path, its parsed body, and the client certificate's CN under mTLS. */
export interface WebhookRequest {
  path: string;
  body: Record<string, unknown>;
  clientCn?: string;
}

/** What a handler returns: a status and a body (JSON-encoded unless a string). */
export interface WebhookReply {
  status?: number;
  body?: unknown;
  /** Milliseconds to wait before answering. */
  delayMs?: number;
}

/** A running test webhook. */
export interface WebhookServer {
  url: string;
  requests: WebhookRequest[];
  close(): Promise<void>;
}

/** Options of {@linkcode startWebhook}. */
export interface StartWebhookOptions {
  /** `tls`: Deno.serve with the PKI's server certificate; `mtls`: also require a client certificate. */
  tls?: "tls" | "mtls";
  pki?: TestPki;
}

/**
 * Starts a webhook on 127.0.0.1 with a free port.
 *
 * @param handler the answer to each request (called in order)
 */
export async function startWebhook(
  handler: (request: WebhookRequest) => WebhookReply | Promise<WebhookReply>,
  options: StartWebhookOptions = {},
): Promise<WebhookServer> {
  const requests: WebhookRequest[] = [];
  const stop = new AbortController();
  /** Delays end early when the server closes, so no timer outlives a test. */
  const delay = (ms: number) =>
    new Promise<void>((resolve) => {
      const timer = setTimeout(resolve, ms);
      stop.signal.addEventListener("abort", () => {
        clearTimeout(timer);
        resolve();
      }, { once: true });
    });
  const answer = async (request: WebhookRequest) => {
    requests.push(request);
    const reply = await handler(request);
    if (reply.delayMs) await delay(reply.delayMs);
    const body = typeof reply.body === "string" ? reply.body : JSON.stringify(reply.body ?? {});
    return { status: reply.status ?? 200, body };
  };
  const parse = (text: string) => {
    try {
      return JSON.parse(text) as Record<string, unknown>;
    } catch {
      return { unparsed: text };
    }
  };
  if (options.tls === "mtls") {
    const pki = options.pki!;
    const server = https.createServer({
      cert: await Deno.readTextFile(pki.serverCert),
      key: await Deno.readTextFile(pki.serverKey),
      ca: await Deno.readTextFile(pki.ca),
      requestCert: true,
      rejectUnauthorized: true,
    }, (req, res) => {
      let text = "";
      req.on("data", (chunk) => (text += chunk));
      req.on("end", async () => {
        // deno-lint-ignore no-explicit-any -- node's TLSSocket, not in the request's type
        const peer = (req.socket as any).getPeerCertificate?.();
        const reply = await answer({
          path: req.url ?? "",
          body: parse(text),
          clientCn: peer?.subject?.CN,
        });
        res.writeHead(reply.status, { "content-type": "application/json" });
        res.end(reply.body);
      });
    });
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
    const port = (server.address() as AddressInfo).port;
    return {
      url: `https://127.0.0.1:${port}/config`,
      requests,
      close: async () => {
        stop.abort();
        server.closeAllConnections?.();
        await new Promise((resolve) => server.close(resolve));
      },
    };
  }
  const tls = options.tls === "tls"
    ? {
      cert: await Deno.readTextFile(options.pki!.serverCert),
      key: await Deno.readTextFile(options.pki!.serverKey),
    }
    : {};
  const server = Deno.serve(
    { hostname: "127.0.0.1", port: 0, onListen: () => {}, signal: stop.signal, ...tls },
    async (request) => {
      const reply = await answer({
        path: new URL(request.url).pathname,
        body: parse(await request.text()),
      });
      return new Response(reply.body, {
        status: reply.status,
        headers: { "content-type": "application/json" },
      });
    },
  );
  const scheme = options.tls === "tls" ? "https" : "http";
  return {
    url: `${scheme}://127.0.0.1:${server.addr.port}/config`,
    requests,
    close: async () => {
      stop.abort();
      await server.finished;
    },
  };
}

/** A port on 127.0.0.1 where nothing listens (it was free a moment ago). */
export function closedPort(): number {
  const listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const port = listener.addr.port;
  listener.close();
  return port;
}
