/** An ssh2 (npm) client: connections that authenticate with the bench key and stay idle. */
// @ts-types="@types/ssh2"
import { Client } from "ssh2";

/** Where and as whom to log in, with the key's text. */
export interface Ssh2Login {
  port: number;
  user: string;
  /** OpenSSH private key text. */
  privateKey: string;
}

/** Connects and authenticates; rejects on any error or after `timeoutMs`. */
export function connectSsh2(login: Ssh2Login, timeoutMs = 30_000): Promise<Client> {
  const client = new Client();
  return new Promise<Client>((resolve, reject) => {
    client.once("ready", () => {
      client.off("error", reject);
      // A late error must not crash the bench: it shows as a closed channel.
      client.on("error", () => {});
      resolve(client);
    });
    client.once("error", reject);
    client.connect({
      host: "127.0.0.1",
      port: login.port,
      username: login.user,
      privateKey: login.privateKey,
      readyTimeout: timeoutMs,
    });
  });
}

/** Ends a connection and waits (at most `timeoutMs`) for its socket to close. */
export function closeSsh2(client: Client, timeoutMs = 5_000): Promise<void> {
  return new Promise((resolve) => {
    const timer = setTimeout(() => {
      client.destroy();
      resolve();
    }, timeoutMs);
    client.once("close", () => {
      clearTimeout(timer);
      resolve();
    });
    client.end();
  });
}
