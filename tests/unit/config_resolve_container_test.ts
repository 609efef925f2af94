import assert from "node:assert/strict";
import { type Config, defaultConfig, resolveContainer } from "../../src/config/mod.ts";

function config(): Config {
  const base = defaultConfig();
  base.container.env = { LANG: "C.UTF-8", SITE: "none" };
  base.container.mounts = [{ source: "/srv/shared", target: "/shared", readOnly: true }];
  base.users = {
    alice: {
      authorizedKeys: [],
      authorizedKeysFiles: [],
      container: {
        image: "alpine",
        memory: 1024 ** 3,
        env: { SITE: "alice.example" },
        mounts: [{ source: "/srv/alice", target: "/var/www", readOnly: false }],
      },
    },
    bob: { authorizedKeys: [], authorizedKeysFiles: [], container: {} },
  };
  return base;
}

Deno.test("resolveContainer() applies a user's overrides, merging env and replacing mounts", () => {
  const spec = resolveContainer(config(), "alice");
  assert.equal(spec.image, "alpine");
  assert.equal(spec.memory, 1024 ** 3);
  assert.equal(spec.shell, "/bin/sh");
  assert.equal(spec.pids, 256);
  assert.deepEqual(spec.env, { LANG: "C.UTF-8", SITE: "alice.example" });
  assert.deepEqual(spec.mounts, [{ source: "/srv/alice", target: "/var/www", readOnly: false }]);
});

Deno.test("resolveContainer() gives the global settings to users without overrides", async (t) => {
  const base = config();
  for (const user of ["bob", "nobody", undefined, "__proto__", "constructor"]) {
    await t.step(
      String(user),
      () => assert.deepEqual(resolveContainer(base, user), base.container),
    );
  }
});

Deno.test("resolveContainer() returns a copy the caller may change", () => {
  const base = config();
  const spec = resolveContainer(base, "bob");
  spec.env["X"] = "1";
  spec.mounts[0]!.readOnly = false;
  assert.deepEqual(base.container.env, { LANG: "C.UTF-8", SITE: "none" });
  assert.equal(base.container.mounts[0]!.readOnly, true);
});
