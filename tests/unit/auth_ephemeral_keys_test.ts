import assert from "node:assert/strict";
import { Authenticator, type AuthenticatorConfig, EphemeralKeys } from "../../src/auth/mod.ts";

const blob = (fill: number) => {
  const name = new TextEncoder().encode("ssh-ed25519");
  const out = new Uint8Array(4 + name.length + 4 + 32);
  const view = new DataView(out.buffer);
  view.setUint32(0, name.length);
  out.set(name, 4);
  view.setUint32(4 + name.length, 32);
  out.fill(fill, 8 + name.length);
  return out;
};
const KEY = { algo: "ssh-ed25519", data: blob(1) };
const OTHER = { algo: "ssh-ed25519", data: blob(2) };

const config: AuthenticatorConfig = {
  users: {
    alice: { authorizedKeys: [], authorizedKeysFiles: [], container: {} },
    bob: { authorizedKeys: [], authorizedKeysFiles: [], container: {} },
  },
  auth: {
    trustedUserCAKeys: [],
    revokedCertificates: { serials: [], keys: [] },
    principalProfiles: {},
    anyUserKeysFiles: ["/keys/any"],
  },
};

function setup() {
  const keys = new EphemeralKeys();
  const authenticator = new Authenticator(config, {
    ephemeralKeys: keys,
    readFile: () => Promise.reject(new Deno.errors.NotFound("none")),
  });
  return { keys, authenticator };
}

Deno.test("Authenticator accepts an ephemeral key for its user only, while it is registered", async () => {
  const { keys, authenticator } = setup();
  assert.equal(await authenticator.identityForVerifiedKey("alice", KEY), null);
  const remove = keys.add("alice", KEY);
  const identity = await authenticator.identityForVerifiedKey("alice", KEY);
  assert.equal(identity?.username, "alice");
  assert.equal(identity?.method, "publickey");
  assert.equal(await authenticator.acceptsKey("alice", KEY), true);
  assert.equal(await authenticator.identityForVerifiedKey("bob", KEY), null, "another user");
  assert.equal(await authenticator.identityForVerifiedKey("alice", OTHER), null, "another key");
  remove();
  remove();
  assert.equal(keys.size, 0);
  assert.equal(await authenticator.identityForVerifiedKey("alice", KEY), null, "removed");
});

Deno.test("Authenticator ignores an ephemeral key of a user the config does not name", async () => {
  const { keys, authenticator } = setup();
  // anyUserKeysFiles lets unnamed users in by their files; an ephemeral key is no such file.
  keys.add("mallory", KEY);
  assert.equal(await authenticator.identityForVerifiedKey("mallory", KEY), null);
  assert.equal(await authenticator.acceptsKey("mallory", KEY), false);
});

Deno.test("Authenticator without ephemeral keys is unchanged by another instance's", async () => {
  const keys = new EphemeralKeys();
  keys.add("alice", KEY);
  const plain = new Authenticator(config, {
    readFile: () => Promise.reject(new Deno.errors.NotFound("none")),
  });
  assert.equal(await plain.identityForVerifiedKey("alice", KEY), null);
});
