import assert from "node:assert/strict";
import {
  type Config,
  ConfigError,
  defaultConfig,
  limitsFor,
  loadConfig,
  resolveContainer,
} from "../../src/config/mod.ts";

const HOME = "/home/tester";
const MiB = 2 ** 20;

async function withFile(yaml: string, fn: (file: string) => Promise<void>): Promise<void> {
  const dir = await Deno.makeTempDir({ prefix: "capsule-limits-" });
  try {
    await Deno.writeTextFile(`${dir}/config.yaml`, yaml);
    await fn(`${dir}/config.yaml`);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
}

async function messages(promise: Promise<unknown>): Promise<string[]> {
  try {
    await promise;
  } catch (error) {
    assert.ok(error instanceof ConfigError, `expected a ConfigError, got ${error}`);
    return error.message.split("\n");
  }
  assert.fail("expected loadConfig() to throw");
}

Deno.test("defaultConfig() has the resource limits' defaults", () => {
  const config = defaultConfig();
  assert.deepEqual(config.limits, {
    sessionsPerUser: 10,
    connectionsPerUser: 10,
    containers: 500,
    forwardsPerConnection: 32,
    listenersPerConnection: 8,
  });
  assert.equal(config.container.disk, 1024 * MiB);
  assert.equal(config.container.readOnlyRootfs, false);
  assert.deepEqual(config.container.tmpfs, {});
  assert.deepEqual(config.container.ulimits, {
    nofile: { soft: 1024, hard: 4096 },
    nproc: { soft: 4096, hard: 4096 },
  });
});

Deno.test("loadConfig() reads limits, disk, tmpfs, readOnlyRootfs and every ulimit form", async () => {
  const yaml = [
    "limits: { sessionsPerUser: 0, containers: 20 }",
    "container:",
    "  disk: 2g",
    "  readOnlyRootfs: true",
    "  tmpfs: { /tmp: 64m, /run/user: 1048576 }",
    "  ulimits:",
    "    nofile: 8192",
    '    core: "0:10"',
  ].join("\n");
  await withFile(yaml, async (file) => {
    const config = await loadConfig({ file, env: { HOME } });
    assert.deepEqual(config.limits, {
      sessionsPerUser: 0,
      connectionsPerUser: 10,
      containers: 20,
      forwardsPerConnection: 32,
      listenersPerConnection: 8,
    });
    assert.equal(config.container.disk, 2048 * MiB);
    assert.equal(config.container.readOnlyRootfs, true);
    assert.deepEqual(config.container.tmpfs, { "/tmp": 64 * MiB, "/run/user": MiB });
    // A file's ulimits merge over the defaults', as every mapping does.
    assert.deepEqual(config.container.ulimits, {
      nofile: { soft: 8192, hard: 8192 },
      nproc: { soft: 4096, hard: 4096 },
      core: { soft: 0, hard: 10 },
    });
  });
  await withFile("container:\n  ulimits: { nproc: { soft: 10, hard: 20 } }\n", async (file) => {
    const config = await loadConfig({ file, env: { HOME } });
    assert.deepEqual(config.container.ulimits.nproc, { soft: 10, hard: 20 });
  });
});

Deno.test("loadConfig() names the option and its place for bad limits", async () => {
  const yaml = [
    "container:",
    "  disk: lots",
    "  ulimits: { nofile: '4096:1024', nprc: 1, core: -1 }",
    "  tmpfs: { /tmp: 0, tmp: 1m, /a/../b: 1m }",
    "limits:",
    "  connectionsPerUser: -1",
    "users:",
    "  bob:",
    "    limits: { sessionsPerUser: 1.5, containers: 3 }",
  ].join("\n");
  await withFile(yaml, async (file) => {
    assert.deepEqual(await messages(loadConfig({ file, env: { HOME } })), [
      `${file}:2:9: "container.disk" must be a size like "256m": got "lots"`,
      `${file}:3:22: "container.ulimits.nofile" must be a limit whose soft value is at most its hard one, like "1024:4096": got "4096:1024"`,
      `${file}:3:35: unknown option "container.ulimits.nprc": did you mean "nproc"?`,
      `${file}:3:50: "container.ulimits.core" must be a limit like 1024, "1024:4096" (soft:hard) or { soft, hard }: got -1`,
      `${file}:4:18: "container.tmpfs./tmp" must be a size above 0, like "64m": got 0`,
      `${file}:4:21: "container.tmpfs.tmp": key must be an absolute path without "..", like "/tmp": got "tmp"`,
      `${file}:4:30: "container.tmpfs./a/../b": key must be an absolute path without "..", like "/tmp": got "/a/../b"`,
      `${file}:6:23: "limits.connectionsPerUser" must be an integer of 0 or more: got -1`,
      `${file}:9:32: "users.bob.limits.sessionsPerUser" must be an integer of 0 or more: got 1.5`,
      `${file}:9:37: unknown option "users.bob.limits.containers": expected one of "sessionsPerUser", "connectionsPerUser"`,
    ]);
  });
});

Deno.test("loadConfig() sets the limits from CAPSULE_ variables and names them in errors", async () => {
  const config = await loadConfig({
    env: {
      HOME,
      CAPSULE_LIMITS_SESSIONS_PER_USER: "3",
      CAPSULE_LIMITS_CONNECTIONS_PER_USER: "2",
      CAPSULE_LIMITS_CONTAINERS: "40",
      CAPSULE_CONTAINER_DISK: "512m",
      CAPSULE_CONTAINER_READ_ONLY_ROOTFS: "yes",
      CAPSULE_CONTAINER_ULIMITS_NOFILE: "2048",
      CAPSULE_CONTAINER_ULIMITS_CORE: "0:0",
    },
  });
  assert.deepEqual(config.limits, {
    sessionsPerUser: 3,
    connectionsPerUser: 2,
    containers: 40,
    forwardsPerConnection: 32,
    listenersPerConnection: 8,
  });
  assert.equal(config.container.disk, 512 * MiB);
  assert.equal(config.container.readOnlyRootfs, true);
  assert.deepEqual(config.container.ulimits, {
    nofile: { soft: 2048, hard: 2048 },
    nproc: { soft: 4096, hard: 4096 },
    core: { soft: 0, hard: 0 },
  });
  assert.deepEqual(
    await messages(loadConfig({
      env: { HOME, CAPSULE_CONTAINER_ULIMITS_NPROC: "many", CAPSULE_LIMITS_CONTAINERS: "-1" },
    })),
    [
      `environment CAPSULE_CONTAINER_ULIMITS_NPROC: "container.ulimits.nproc" must be a limit like 1024, "1024:4096" (soft:hard) or { soft, hard }: got "many"`,
      `environment CAPSULE_LIMITS_CONTAINERS: "limits.containers" must be an integer of 0 or more: got -1`,
    ],
  );
});

function withUsers(): Config {
  const config = defaultConfig();
  config.limits = {
    sessionsPerUser: 4,
    connectionsPerUser: 2,
    containers: 100,
    forwardsPerConnection: 32,
    listenersPerConnection: 8,
  };
  config.container.ulimits = { nofile: { soft: 100, hard: 200 }, core: { soft: 0, hard: 0 } };
  config.container.tmpfs = { "/tmp": 64 * MiB };
  config.users = {
    alice: {
      authorizedKeys: [],
      authorizedKeysFiles: [],
      container: { ulimits: { nofile: { soft: 50, hard: 50 } }, tmpfs: { "/run": MiB } },
      limits: { sessionsPerUser: 0 },
    },
    bob: { authorizedKeys: [], authorizedKeysFiles: [], container: {} },
  };
  return config;
}

Deno.test("resolveContainer() merges a user's ulimits key by key and replaces their tmpfs", () => {
  const config = withUsers();
  const alice = resolveContainer(config, "alice");
  assert.deepEqual(alice.ulimits, {
    nofile: { soft: 50, hard: 50 },
    core: { soft: 0, hard: 0 },
  });
  assert.deepEqual(alice.tmpfs, { "/run": MiB });
  const bob = resolveContainer(config, "bob");
  assert.deepEqual(bob.ulimits, config.container.ulimits);
  assert.deepEqual(bob.tmpfs, { "/tmp": 64 * MiB });
  const copy = resolveContainer(config, "bob");
  copy.ulimits.nofile!.soft = 1;
  copy.tmpfs["/x"] = 1;
  assert.equal(config.container.ulimits.nofile?.soft, 100, "a copy the caller may change");
  assert.deepEqual(config.container.tmpfs, { "/tmp": 64 * MiB });
});

Deno.test("limitsFor() applies a user's own limits over the global ones", async (t) => {
  const config = withUsers();
  const cases: [string, { sessionsPerUser: number; connectionsPerUser: number }][] = [
    ["alice", { sessionsPerUser: 0, connectionsPerUser: 2 }],
    ["bob", { sessionsPerUser: 4, connectionsPerUser: 2 }],
    ["nobody", { sessionsPerUser: 4, connectionsPerUser: 2 }],
    ["constructor", { sessionsPerUser: 4, connectionsPerUser: 2 }],
  ];
  for (const [user, limits] of cases) {
    await t.step(user, () => assert.deepEqual(limitsFor(config, user), limits));
  }
});

Deno.test("loadConfig() reads a user's limits and container limits from the file", async () => {
  const yaml = [
    "users:",
    "  carol:",
    "    limits: { connectionsPerUser: 1 }",
    "    container:",
    "      ulimits: { nproc: 64 }",
    "      tmpfs: { /tmp: 8m }",
    "      disk: 0",
    "      readOnlyRootfs: true",
  ].join("\n");
  await withFile(yaml, async (file) => {
    const config = await loadConfig({ file, env: { HOME } });
    assert.deepEqual(config.users["carol"]?.limits, { connectionsPerUser: 1 });
    assert.deepEqual(limitsFor(config, "carol"), { sessionsPerUser: 10, connectionsPerUser: 1 });
    const spec = resolveContainer(config, "carol");
    assert.deepEqual(spec.ulimits, {
      nofile: { soft: 1024, hard: 4096 },
      nproc: { soft: 64, hard: 64 },
    });
    assert.deepEqual(spec.tmpfs, { "/tmp": 8 * MiB });
    assert.equal(spec.disk, 0);
    assert.equal(spec.readOnlyRootfs, true);
  });
});
