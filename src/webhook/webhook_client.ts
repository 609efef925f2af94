import { describeError } from "../errors/mod.ts";
import { WebhookFailure } from "./webhook_failure.ts";

/** Options of {@linkcode WebhookClient}. */
export interface WebhookClientOptions {
  /** Where to POST. */
  url: string;
  /** Milliseconds each call may take, the answer's body included. */
  timeoutMs: number;
  /** Further attempts after a transport error, a timeout or a 5xx. */
  retries: number;
  /** The HTTP client (custom CAs, a client certificate); default `fetch`'s own. */
  httpClient?: Deno.HttpClient | undefined;
  /** Milliseconds before the first retry, doubled for each next one (default 100). */
  backoffMs?: number;
  /** Largest answer accepted, in bytes (default 1 MiB). */
  maxBodyBytes?: number;
}

/** Options of {@linkcode WebhookClient.post}. */
export interface PostOptions {
  /** Aborts every attempt and the waits between them (the login deadline, a client gone). */
  signal?: AbortSignal;
}

const DEFAULT_BACKOFF_MS = 100;
const DEFAULT_MAX_BODY = 2 ** 20;

/** One attempt's outcome: a parsed JSON body, or a failure and whether to try again. */
type Attempt = { ok: true; body: unknown } | { ok: false; retry: boolean; failure: WebhookFailure };

/**
 * A JSON webhook: POSTs a body and returns the parsed JSON answer of a 200.
 * Each call is bounded by `timeoutMs`; transport errors, timeouts and 5xx
 * answers are retried up to `retries` times with a short backoff, any other
 * answer is final; redirects are not followed. Nothing is retried past the
 * caller's signal.
 *
 * @example
 * ```ts
 * const hook = new WebhookClient({ url: "https://hooks.example/config", timeoutMs: 2000, retries: 2 });
 * const answer = await hook.post({ username: "alice" }, { signal: AbortSignal.timeout(10_000) });
 * ```
 */
export class WebhookClient {
  readonly #options: WebhookClientOptions;
  readonly #url: URL;

  /** @param options where, how long, how often, and over which HTTP client */
  constructor(options: WebhookClientOptions) {
    this.#options = options;
    this.#url = new URL(options.url);
  }

  /** The URL as logs may show it: without its query and fragment, which may hold a token. */
  get safeUrl(): string {
    return redactedUrl(this.#url);
  }

  /**
   * POSTs `body` as JSON.
   *
   * @returns the answer's parsed JSON
   * @throws {WebhookFailure} when no attempt gave a 200 with a JSON body
   */
  async post(body: unknown, options: PostOptions = {}): Promise<unknown> {
    const { signal } = options;
    const text = JSON.stringify(body);
    let backoff = this.#options.backoffMs ?? DEFAULT_BACKOFF_MS;
    let attempts = 0;
    for (;;) {
      attempts++;
      const attempt = await this.#attempt(text, attempts, signal);
      if (attempt.ok) return attempt.body;
      if (signal?.aborted) throw this.#deadline(attempt.failure, attempts);
      if (!attempt.retry || attempts > this.#options.retries) throw attempt.failure;
      if (!(await sleep(backoff, signal))) throw this.#deadline(attempt.failure, attempts);
      backoff *= 2;
    }
  }

  #deadline(last: WebhookFailure, attempts: number): WebhookFailure {
    return new WebhookFailure(
      "unavailable",
      `no answer before the login deadline (last: ${last.message})`,
      { attempts },
    );
  }

  async #attempt(text: string, attempts: number, outer?: AbortSignal): Promise<Attempt> {
    const timeoutMs = this.#options.timeoutMs;
    const controller = new AbortController();
    const timer = setTimeout(() => controller.abort(), timeoutMs);
    const onOuter = () => controller.abort();
    outer?.addEventListener("abort", onOuter, { once: true });
    if (outer?.aborted) controller.abort();
    const fail = (kind: WebhookFailure["kind"], message: string, retry: boolean): Attempt => ({
      ok: false,
      retry,
      failure: new WebhookFailure(kind, message, { attempts }),
    });
    try {
      let response: Response;
      try {
        response = await fetch(this.#url, {
          method: "POST",
          headers: {
            "content-type": "application/json",
            accept: "application/json",
            "user-agent": "capsule",
          },
          body: text,
          redirect: "manual",
          signal: controller.signal,
          ...(this.#options.httpClient ? { client: this.#options.httpClient } : {}),
        });
      } catch (error) {
        if (controller.signal.aborted) {
          return fail("unavailable", `no answer within ${seconds(timeoutMs)}`, true);
        }
        return fail("unavailable", `cannot reach it: ${this.#scrub(describeError(error))}`, true);
      }
      if (response.status !== 200) {
        await response.body?.cancel().catch(() => {});
        return response.status >= 500
          ? fail("unavailable", `it answered ${response.status}`, true)
          : fail("refused", `it answered ${response.status}, not 200`, false);
      }
      let raw: string;
      try {
        raw = await readLimited(response, this.#options.maxBodyBytes ?? DEFAULT_MAX_BODY);
      } catch (error) {
        if (controller.signal.aborted) {
          return fail("unavailable", `no answer within ${seconds(timeoutMs)}`, true);
        }
        if (error instanceof RangeError) return fail("invalid", error.message, false);
        return fail("unavailable", `the answer broke off: ${describeError(error)}`, true);
      }
      try {
        return { ok: true, body: JSON.parse(raw) };
      } catch {
        return fail("invalid", `the answer is not JSON (${raw.length} bytes)`, false);
      }
    } finally {
      clearTimeout(timer);
      outer?.removeEventListener("abort", onOuter);
    }
  }

  /** Takes the full URL out of an error message (Deno's fetch errors name it). */
  #scrub(message: string): string {
    return message.replaceAll(this.#url.href, this.safeUrl);
  }
}

/** `origin` and path only. */
function redactedUrl(url: URL): string {
  return `${url.origin}${url.pathname}`;
}

function seconds(ms: number): string {
  return `${Number((ms / 1000).toFixed(3))} s`;
}

/** Resolves `true` after `ms`, or `false` at once when `signal` aborts. */
function sleep(ms: number, signal?: AbortSignal): Promise<boolean> {
  if (signal?.aborted) return Promise.resolve(false);
  return new Promise((resolve) => {
    const onAbort = () => {
      clearTimeout(timer);
      resolve(false);
    };
    const timer = setTimeout(() => {
      signal?.removeEventListener("abort", onAbort);
      resolve(true);
    }, ms);
    signal?.addEventListener("abort", onAbort, { once: true });
  });
}

/**
 * The body as text, refusing one past `max` bytes.
 *
 * @throws {RangeError} when the body is larger
 */
async function readLimited(response: Response, max: number): Promise<string> {
  if (!response.body) return "";
  const reader = response.body.getReader();
  const chunks: Uint8Array[] = [];
  let size = 0;
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    size += value.length;
    if (size > max) {
      await reader.cancel().catch(() => {});
      throw new RangeError(`the answer is larger than ${max} bytes`);
    }
    chunks.push(value);
  }
  const joined = new Uint8Array(size);
  let at = 0;
  for (const chunk of chunks) {
    joined.set(chunk, at);
    at += chunk.length;
  }
  return new TextDecoder().decode(joined);
}
