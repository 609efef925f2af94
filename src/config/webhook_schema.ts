import type { z } from "zod";
import { hostPath } from "./host_path_schema.ts";
import { isLoopbackHost } from "./is_loopback_host.ts";
import { integer, number, object, oneOf, string } from "./value_schemas.ts";

/** An `http://` or `https://` URL without user info; `""` turns the webhook off. */
function webhookUrl(): z.ZodString {
  return string().refine(
    (text) => {
      if (text === "") return true;
      try {
        const url = new URL(text);
        return (url.protocol === "http:" || url.protocol === "https:") && url.username === "" &&
          url.password === "";
      } catch {
        return false;
      }
    },
    { error: `"" or an http:// or https:// URL without a user or password` },
  );
}

/** The settings every webhook has. */
const webhookFields = {
  url: webhookUrl()
    .describe("Where capsule POSTs its JSON request; empty to turn the webhook off.")
    .default(""),
  timeout: number({ min: 0.1, max: 60 })
    .describe("Seconds each call may take (fractions allowed).")
    .default(2),
  retries: integer({ min: 0, max: 10 })
    .describe(
      "Further attempts after a transport error, a timeout or a 5xx answer; never after any other answer. All within the login deadline.",
    )
    .default(2),
  caCert: hostPath()
    .describe(
      "PEM file of CA certificates trusted for the webhook's TLS certificate, besides the system's.",
    )
    .exactOptional(),
  clientCert: hostPath()
    .describe("PEM file of the client certificate (chain) capsule presents (mutual TLS).")
    .exactOptional(),
  clientKey: hostPath()
    .describe("PEM file of the private key of `clientCert`.")
    .exactOptional(),
};

const BOTH_OR_NEITHER = {
  error: "both or neither of clientCert and clientKey",
  path: ["clientKey"],
};

/**
 * An HTTP endpoint capsule calls: where, how long each call may take, how
 * often it is retried, and the TLS material that authenticates both ends.
 */
export const WebhookConfig = object(webhookFields).refine(
  (hook) => (hook.clientCert === undefined) === (hook.clientKey === undefined),
  BOTH_OR_NEITHER,
);
/** An HTTP endpoint capsule calls. */
export type WebhookConfig = z.output<typeof WebhookConfig>;

/**
 * The auth webhook: a webhook, the shape of its requests, and a URL that
 * keeps passwords off the network (`https://`, or `http://` to this machine).
 */
export const AuthWebhookConfig = object({
  ...webhookFields,
  format: oneOf(["capsule", "containerssh"] as const)
    .describe(
      "`capsule`: one endpoint, capsule's versioned request and answer (allow, deny, prompts, a profile). `containerssh`: ContainerSSH's `/password` and `/pubkey` endpoints under `url`, so an existing ContainerSSH auth server works unchanged.",
    )
    .default("capsule"),
}).refine(
  (hook) => (hook.clientCert === undefined) === (hook.clientKey === undefined),
  BOTH_OR_NEITHER,
).refine(
  (hook) => {
    if (hook.url === "") return true;
    const url = new URL(hook.url);
    return url.protocol === "https:" || isLoopbackHost(url.hostname);
  },
  {
    error:
      "an https:// URL, or http:// to a loopback address: passwords must not cross a network in clear",
    path: ["url"],
  },
);
/** The auth webhook's settings. */
export type AuthWebhookConfig = z.output<typeof AuthWebhookConfig>;
