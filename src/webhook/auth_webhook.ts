import { z } from "zod";
import type { Challenge, ChallengeOutcome } from "../auth/mod.ts";
import type { AuthWebhookConfig } from "../config/types.ts";
import { WebhookClient } from "./webhook_client.ts";
import { WebhookFailure } from "./webhook_failure.ts";

/** Who is logging in, as the auth webhook is told. */
export interface AuthLogin {
  username: string;
  connectionId: string;
  /** The client's `ip:port`. */
  remoteAddress: string;
  /** The client's SSH version string, if known. */
  clientVersion?: string | undefined;
}

/** What the auth webhook decided about one credential. */
export type AuthVerdict =
  /** Let in, with the profile the answer named (capsule's format only). */
  | { result: "allow"; profile?: string }
  /** Not let in; `reason` is for the operator's log. */
  | { result: "deny"; reason: string }
  /** The credential passed; the user must now answer these questions (keyboard-interactive). */
  | { result: "challenge"; challenge: Challenge; profile?: string };

/** The largest opaque `state` a capsule-format answer may hand back to itself. */
const MAX_STATE = 4096;

/** A capsule-format answer (version 1). */
const CapsuleAnswer = z.object({
  version: z.literal(1),
  result: z.enum(["allow", "deny", "prompt"]),
  reason: z.string().max(500).optional(),
  profile: z.string().regex(/^[A-Za-z_][A-Za-z0-9_.-]{0,63}$/).optional(),
  title: z.string().max(200).optional(),
  instructions: z.string().max(1000).optional(),
  prompts: z.array(z.object({ prompt: z.string().min(1).max(256), echo: z.boolean() }))
    .min(1).max(8).optional(),
  state: z.string().max(MAX_STATE).optional(),
}).refine((a) => a.result !== "prompt" || a.prompts !== undefined, {
  message: '"prompts" is required when "result" is "prompt"',
});
type CapsuleAnswer = z.infer<typeof CapsuleAnswer>;

/** ContainerSSH's answer: `success` is what counts; the rest is its own metadata. */
const ContainerSshAnswer = z.object({ success: z.boolean() }).passthrough();

/** What the auth webhook is told of an OpenSSH user certificate (checked, but signed by a CA the config does not trust). */
export interface CertificateFacts {
  keyId: string;
  serial: string;
  principals: readonly string[];
  /** `SHA256:` fingerprint of the CA that signed it. */
  ca: string;
}

/** A credential a first-factor call carries. */
type Credential =
  | { method: "password"; password: string }
  | {
    method: "publickey";
    publicKey: string;
    fingerprint: string;
    certificate?: CertificateFacts | undefined;
  };

/**
 * The auth webhook: asks an HTTP endpoint whether a login the config does
 * not know may proceed. Two request shapes: capsule's own (one endpoint,
 * versioned, which may also ask keyboard-interactive questions and name a
 * profile) and ContainerSSH's (`/password` and `/pubkey` under the URL, so
 * that an existing ContainerSSH auth server works unchanged). Every failure
 * (no answer in time, a non-200, an answer that is not valid) denies: it
 * fails closed. Passwords go only over TLS or to this machine (the config
 * checks the URL); nothing secret reaches a log line.
 */
export class AuthWebhook {
  readonly #format: AuthWebhookConfig["format"];
  readonly #capsule: WebhookClient | undefined;
  readonly #password: WebhookClient | undefined;
  readonly #pubkey: WebhookClient | undefined;

  /**
   * @param config the `webhooks.auth` settings
   * @param httpClient the HTTP client of its TLS settings, if any
   */
  constructor(config: AuthWebhookConfig, httpClient?: Deno.HttpClient) {
    this.#format = config.format;
    const client = (url: string) =>
      new WebhookClient({
        url,
        timeoutMs: config.timeout * 1000,
        retries: config.retries,
        httpClient,
      });
    if (config.format === "containerssh") {
      const base = config.url.replace(/\/+$/, "");
      this.#password = client(`${base}/password`);
      this.#pubkey = client(`${base}/pubkey`);
    } else {
      this.#capsule = client(config.url);
    }
  }

  /** The endpoint as logs may show it. */
  get url(): string {
    return (this.#capsule ?? this.#password)!.safeUrl.replace(/\/password$/, "");
  }

  /** Asks about a password the config does not know. */
  password(login: AuthLogin, password: string, signal: AbortSignal): Promise<AuthVerdict> {
    return this.#ask(login, { method: "password", password }, signal);
  }

  /**
   * Asks about a public key whose signature was verified and that the config
   * does not know; `publicKey` is its authorized_keys line. For a
   * certificate from a CA the config does not trust (checked otherwise:
   * signature, validity, principals, options), `publicKey` is the
   * certificate's line and `certificate` its key id, serial, principals and CA.
   */
  publicKey(
    login: AuthLogin,
    publicKey: string,
    fingerprint: string,
    signal: AbortSignal,
    certificate?: CertificateFacts,
  ): Promise<AuthVerdict> {
    return this.#ask(login, { method: "publickey", publicKey, fingerprint, certificate }, signal);
  }

  async #ask(login: AuthLogin, credential: Credential, signal: AbortSignal): Promise<AuthVerdict> {
    try {
      if (this.#format === "containerssh") {
        return await this.#askContainerSsh(login, credential, signal);
      }
      const answer = await this.#post(this.#capsule!, {
        version: 1,
        ...loginFields(login),
        ...(credential.method === "password"
          ? { method: "password", password: credential.password }
          : {
            method: "publickey",
            publicKey: credential.publicKey,
            fingerprint: credential.fingerprint,
            ...(credential.certificate ? { certificate: credential.certificate } : {}),
          }),
      }, signal);
      return this.#verdict(login, answer, signal);
    } catch (error) {
      if (error instanceof WebhookFailure) {
        return { result: "deny", reason: `auth webhook: ${error.message} (${error.kind})` };
      }
      throw error;
    }
  }

  async #askContainerSsh(
    login: AuthLogin,
    credential: Credential,
    signal: AbortSignal,
  ): Promise<AuthVerdict> {
    const common = {
      username: login.username,
      remoteAddress: login.remoteAddress,
      connectionId: login.connectionId,
      clientVersion: login.clientVersion ?? "",
      metadata: {},
      environment: {},
      files: {},
    };
    const body = await (credential.method === "password"
      ? this.#password!.post({
        ...common,
        passwordBase64: btoa(String.fromCharCode(...new TextEncoder().encode(credential.password))),
      }, { signal })
      : this.#pubkey!.post({ ...common, publicKey: credential.publicKey }, { signal }));
    const parsed = ContainerSshAnswer.safeParse(body);
    if (!parsed.success) {
      return { result: "deny", reason: 'auth webhook: the answer has no boolean "success"' };
    }
    return parsed.data.success
      ? { result: "allow" }
      : { result: "deny", reason: "auth webhook: not allowed" };
  }

  async #post(client: WebhookClient, body: unknown, signal: AbortSignal): Promise<CapsuleAnswer> {
    const raw = await client.post(body, { signal });
    const parsed = CapsuleAnswer.safeParse(raw);
    if (!parsed.success) {
      const issue = parsed.error.issues[0];
      throw new WebhookFailure(
        "invalid",
        `the answer is not valid: ${issue?.path.join(".") || "answer"}: ${issue?.message}`,
        { attempts: 1 },
      );
    }
    return parsed.data;
  }

  /** A capsule-format answer as a verdict; a `prompt` answer becomes a challenge that posts back. */
  #verdict(login: AuthLogin, answer: CapsuleAnswer, signal: AbortSignal): AuthVerdict {
    const profile = answer.profile !== undefined ? { profile: answer.profile } : {};
    if (answer.result === "allow") return { result: "allow", ...profile };
    if (answer.result === "deny") {
      return { result: "deny", reason: `auth webhook: ${answer.reason ?? "not allowed"}` };
    }
    return { result: "challenge", challenge: this.#challenge(login, answer, signal), ...profile };
  }

  /** One round of the webhook's questions; the answers go back to it with its `state`. */
  #challenge(login: AuthLogin, answer: CapsuleAnswer, signal: AbortSignal): Challenge {
    return {
      title: answer.title ?? "",
      instructions: answer.instructions ?? "",
      prompts: answer.prompts ?? [],
      answer: async (responses): Promise<ChallengeOutcome> => {
        let next: CapsuleAnswer;
        try {
          next = await this.#post(this.#capsule!, {
            version: 1,
            ...loginFields(login),
            method: "keyboard-interactive",
            responses,
            ...(answer.state !== undefined ? { state: answer.state } : {}),
          }, signal);
        } catch (error) {
          if (error instanceof WebhookFailure) {
            return { result: "refused", reason: `auth webhook: ${error.message} (${error.kind})` };
          }
          throw error;
        }
        if (next.result === "allow") return { result: "accepted" };
        if (next.result === "deny") {
          return { result: "refused", reason: `auth webhook: ${next.reason ?? "not allowed"}` };
        }
        return { result: "continue", challenge: this.#challenge(login, next, signal) };
      },
    };
  }
}

function loginFields(login: AuthLogin) {
  return {
    username: login.username,
    remoteAddress: login.remoteAddress,
    connectionId: login.connectionId,
    clientVersion: login.clientVersion ?? "",
  };
}
