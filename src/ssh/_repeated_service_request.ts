// @ts-types="@types/ssh2"
import type { Connection } from "ssh2";

type ServiceHandler = (protocol: unknown, service: string) => void;

interface ServiceInternals {
  authenticated?: boolean;
  _protocol?: {
    _handlers?: { SERVICE_REQUEST?: ServiceHandler };
    serviceAccept?(service: string): void;
  };
}

/**
 * Lets a client ask for the `ssh-userauth` service again before it has
 * authenticated, as OpenSSH's sshd does. paramiko asks for it before every
 * authentication call, so its second step (keyboard-interactive after a
 * password, for TOTP) would be cut off by ssh2 1.17.0, which answers any
 * second request with "service not available". The first request, and any
 * after authentication, still go to ssh2. Pinned to ssh2 1.17.0 (its
 * protocol's message handlers) and covered end to end with paramiko.
 *
 * @returns whether this ssh2 has the internals to do it
 */
export function allowRepeatedUserauthRequest(client: Connection): boolean {
  const internals = client as unknown as ServiceInternals;
  const protocol = internals._protocol;
  const handlers = protocol?._handlers;
  const original = handlers?.SERVICE_REQUEST;
  if (!protocol || !handlers || !original || typeof protocol.serviceAccept !== "function") {
    return false;
  }
  let accepted = false;
  handlers.SERVICE_REQUEST = (self, service) => {
    if (service === "ssh-userauth" && accepted && internals.authenticated === false) {
      protocol.serviceAccept!(service);
      return;
    }
    if (service === "ssh-userauth") accepted = true;
    original(self, service);
  };
  return true;
}
