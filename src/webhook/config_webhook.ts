import type { ConfigAnswer } from "../config/mod.ts";
import type { WebhookClient } from "./webhook_client.ts";
import { WebhookFailure } from "./webhook_failure.ts";
import { type ConfigAnswerShape, parseConfigAnswer } from "./parse_config_answer.ts";

/** Who logged in, as the config webhook is told. */
export interface ConfigRequestLogin {
  username: string;
  connectionId: string;
  /** The client's `ip:port`. */
  remoteAddress: string;
  /** The client's SSH version string (`SSH-2.0-OpenSSH_9.2p1`), if known. */
  clientVersion?: string | undefined;
  /** How the user logged in; `socket`: through OpenSSH and `capsule spawn` (`server.userSockets`). */
  method: "password" | "publickey" | "socket";
  keyFingerprint?: string | undefined;
  certificate?: { keyId: string; serial: string; principals: readonly string[] } | undefined;
  /** The profile capsule's config gives this login (the user's, or a principal's). */
  profile?: string | undefined;
}

/** A config webhook's valid answer. */
export interface ConfigWebhookAnswer {
  shape: ConfigAnswerShape;
  answer: ConfigAnswer;
}

/** One `metadata` entry, in ContainerSSH's form. */
function meta(value: string): { value: string; sensitive: false } {
  return { value, sensitive: false };
}

/**
 * The body capsule POSTs: ContainerSSH's config request (`username`,
 * `authenticatedUsername`, `remoteAddress`, `connectionId`,
 * `clientVersion`, `metadata`, `environment`, `files`), with what capsule
 * knows of the login under `metadata` as `capsule.*` entries. No password
 * or key material is sent.
 */
export function configRequestBody(login: ConfigRequestLogin): Record<string, unknown> {
  const metadata: Record<string, { value: string; sensitive: false }> = {
    "capsule.method": meta(login.method),
  };
  if (login.keyFingerprint) metadata["capsule.fingerprint"] = meta(login.keyFingerprint);
  if (login.certificate) {
    metadata["capsule.certificate.keyId"] = meta(login.certificate.keyId);
    metadata["capsule.certificate.serial"] = meta(login.certificate.serial);
    metadata["capsule.certificate.principals"] = meta(login.certificate.principals.join(","));
  }
  if (login.profile !== undefined) metadata["capsule.profile"] = meta(login.profile);
  return {
    username: login.username,
    authenticatedUsername: login.username,
    remoteAddress: login.remoteAddress,
    connectionId: login.connectionId,
    clientVersion: login.clientVersion ?? "",
    metadata,
    environment: {},
    files: {},
  };
}

/**
 * The config webhook: asks, after each login, for that connection's
 * container settings, and validates the answer's shape and values.
 */
export class ConfigWebhook {
  readonly #client: WebhookClient;

  /** @param client the HTTP endpoint, with its timeout, retries and TLS */
  constructor(client: WebhookClient) {
    this.#client = client;
  }

  /** The endpoint as logs may show it. */
  get url(): string {
    return this.#client.safeUrl;
  }

  /**
   * Asks for the settings of `login`'s connection.
   *
   * @throws {WebhookFailure} when there is no answer, or one that is not valid
   */
  async fetch(login: ConfigRequestLogin, signal?: AbortSignal): Promise<ConfigWebhookAnswer> {
    const json = await this.#client.post(configRequestBody(login), signal ? { signal } : {});
    const parsed = parseConfigAnswer(json);
    if (!parsed.ok) {
      const shape = parsed.shape === "containerssh" ? " (ContainerSSH's shape)" : "";
      throw new WebhookFailure(
        "invalid",
        `the answer${shape} is not valid: ${parsed.problems.join("; ")}`,
        {
          attempts: 1,
        },
      );
    }
    return { shape: parsed.shape, answer: parsed.answer };
  }
}
