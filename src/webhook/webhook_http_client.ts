import type { WebhookConfig } from "../config/types.ts";

/**
 * The HTTP client of a webhook's TLS settings: its `caCert` trusted besides
 * the system's CAs, and its `clientCert` and `clientKey` presented to servers
 * that ask for one (mutual TLS). Files are read once, here.
 *
 * @returns `undefined` when the settings need nothing beyond `fetch`'s own client
 * @throws {Deno.errors.NotFound} and other read errors, for the operator at start-up
 */
export async function webhookHttpClient(
  config: WebhookConfig,
): Promise<Deno.HttpClient | undefined> {
  if (config.caCert === undefined && config.clientCert === undefined) return undefined;
  const caCerts = config.caCert === undefined ? [] : [await Deno.readTextFile(config.caCert)];
  if (config.clientCert === undefined || config.clientKey === undefined) {
    return Deno.createHttpClient({ caCerts });
  }
  return Deno.createHttpClient({
    caCerts,
    cert: await Deno.readTextFile(config.clientCert),
    key: await Deno.readTextFile(config.clientKey),
  });
}
