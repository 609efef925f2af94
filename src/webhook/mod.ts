/** Webhooks capsule calls: the HTTP client with its retries and TLS, and the config webhook. */
export * from "./webhook_failure.ts";
export * from "./webhook_client.ts";
export * from "./webhook_http_client.ts";
export * from "./containerssh_answer.ts";
export * from "./parse_config_answer.ts";
export * from "./config_webhook.ts";
export * from "./auth_webhook.ts";
