import type { ConnectionIdentity } from "../auth/mod.ts";
import {
  type Config,
  type ContainerConfig,
  profileFor,
  resolveContainer,
  unsafeContainerSettings,
} from "../config/mod.ts";
import { type CapsuleError, loginSettingsFailed } from "../errors/mod.ts";
import type { AcceptedLogin } from "../ssh/mod.ts";
import { type ConfigWebhook, WebhookFailure } from "../webhook/mod.ts";

/** Options of {@linkcode ConnectionSettings}. */
export interface ConnectionSettingsOptions {
  /** The config in force (it changes on reload). */
  config(): Config;
  /** The config webhook; without it every connection gets its settings from the config. */
  webhook?: ConfigWebhook | undefined;
}

/**
 * The container settings of each logged-in connection. Without a config
 * webhook they come from the config in force at each use: global, then the
 * login's profile (its user's, or its certificate principal's), then the
 * user's own overrides. With one, the webhook's answer at login picks the
 * profile and adds its overrides last; the result is checked against
 * `unsafe:` and then holds for the connection's life (a reload does not
 * change it), keyed by the connection's id until {@linkcode forget}.
 */
export class ConnectionSettings {
  readonly #options: ConnectionSettingsOptions;
  readonly #answered = new Map<string, ContainerConfig>();

  /** @param options the config, and the webhook if any */
  constructor(options: ConnectionSettingsOptions) {
    this.#options = options;
  }

  /**
   * Gets a just-accepted login's settings from the config webhook, if there
   * is one. Fails closed: no answer before `signal` aborts, an error, or an
   * answer that is not valid or asks for what `unsafe:` does not allow gives
   * the login's refusal (and a `webhook.config_failed` line in the log).
   *
   * @returns the refusal for the user, or `undefined` when the login may go on
   */
  async login(login: AcceptedLogin, signal: AbortSignal): Promise<CapsuleError | undefined> {
    const webhook = this.#options.webhook;
    if (!webhook) return undefined;
    const { connectionId, identity, logger } = login;
    const config = this.#options.config();
    const chosen = profileFor(config, {
      username: identity.username,
      principals: identity.certificate?.principals,
      profile: identity.profile,
    });
    const started = performance.now();
    const failed = (reason: string, fields: Record<string, string | number> = {}) => {
      logger.warn("webhook.config_failed", {
        url: webhook.url,
        reason,
        duration_ms: Math.round(performance.now() - started),
        ...fields,
      });
      return loginSettingsFailed(identity.username, connectionId, { cause: new Error(reason) });
    };
    let fetched;
    try {
      fetched = await webhook.fetch({
        username: identity.username,
        connectionId,
        remoteAddress: login.remote,
        clientVersion: login.clientVersion,
        method: identity.method,
        keyFingerprint: identity.keyFingerprint,
        certificate: identity.certificate,
        profile: chosen,
      }, signal);
    } catch (error) {
      if (error instanceof WebhookFailure) {
        return failed(error.message, { kind: error.kind, attempts: error.attempts });
      }
      throw error;
    }
    const { answer, shape } = fetched;
    const profile = answer.profile ?? chosen;
    if (answer.profile !== undefined && !Object.hasOwn(config.profiles, answer.profile)) {
      return failed(
        `the answer names profile "${answer.profile}", which "profiles" does not define`,
        {
          kind: "invalid",
          shape,
        },
      );
    }
    const container = resolveContainer(config, identity.username, {
      profile,
      overrides: answer.container,
    });
    const unsafe = unsafeContainerSettings(container, ["container"], config);
    if (unsafe.length > 0) {
      return failed(`the answer is not allowed: ${unsafe.map((u) => u.message).join("; ")}`, {
        kind: "unsafe",
        shape,
      });
    }
    // The client left while the webhook answered: nothing to keep.
    if (signal.aborted) return failed("the login ended before the answer arrived");
    this.#answered.set(connectionId, container);
    logger.info("webhook.config", {
      url: webhook.url,
      shape,
      ...(profile !== undefined ? { profile } : {}),
      image: container.image,
      mode: container.mode,
      duration_ms: Math.round(performance.now() - started),
    });
    return undefined;
  }

  /** A connection's container settings; a fresh object the caller may change. */
  containerFor(owner: ConnectionIdentity): ContainerConfig {
    const answered = this.#answered.get(owner.connectionId);
    if (answered) return structuredClone(answered);
    const config = this.#options.config();
    const { username, certificate, profile } = owner.identity;
    return resolveContainer(config, username, {
      profile: profileFor(config, { username, principals: certificate?.principals, profile }),
    });
  }

  /** Forgets a closed connection. */
  forget(connectionId: string): void {
    this.#answered.delete(connectionId);
  }
}
