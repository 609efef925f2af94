import assert from "node:assert/strict";
import { ConfigError, type ConfigFlags, defaultConfig, loadConfig } from "../../src/config/mod.ts";

const HOME = "/home/tester";

async function withDir(fn: (dir: string) => Promise<void>): Promise<void> {
  const dir = await Deno.makeTempDir({ prefix: "capsule-config-" });
  try {
    await fn(dir);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
}

async function configError(promise: Promise<unknown>): Promise<ConfigError> {
  try {
    await promise;
  } catch (error) {
    assert.ok(error instanceof ConfigError, `expected a ConfigError, got ${error}`);
    return error;
  }
  assert.fail("expected loadConfig() to throw");
}

Deno.test("loadConfig() without file, environment or flags returns the defaults", async () => {
  const config = await loadConfig({ env: { HOME }, cwd: "/srv" });
  const expected = defaultConfig();
  expected.server.stateDir = `${HOME}/.local/state/capsule`;
  assert.deepEqual(config, expected);
  assert.equal(config.container.memory, 512 * 1024 * 1024);
});

Deno.test("loadConfig() treats an empty file as the defaults", async () => {
  await withDir(async (dir) => {
    await Deno.writeTextFile(`${dir}/empty.yaml`, "# nothing here\n");
    const config = await loadConfig({ file: `${dir}/empty.yaml`, env: { HOME } });
    assert.equal(config.server.listen, "127.0.0.1:2222");
  });
});

Deno.test("loadConfig() layers defaults < file < environment < flags", async (t) => {
  await withDir(async (dir) => {
    const file = `${dir}/config.yaml`;
    await Deno.writeTextFile(
      file,
      `server:\n  listen: 127.0.0.1:1111\nlog:\n  level: warn\ncontainer:\n  memory: 1g\n  env: { A: "1" }\n`,
    );
    const cases: {
      name: string;
      env?: Record<string, string>;
      flags?: ConfigFlags;
      listen: string;
      level: string;
    }[] = [
      { name: "file over defaults", listen: "127.0.0.1:1111", level: "warn" },
      {
        name: "environment over file",
        env: { CAPSULE_SERVER_LISTEN: "127.0.0.1:2222", CAPSULE_LOG_LEVEL: "debug" },
        listen: "127.0.0.1:2222",
        level: "debug",
      },
      {
        name: "flags over environment",
        env: { CAPSULE_SERVER_LISTEN: "127.0.0.1:2222", CAPSULE_LOG_LEVEL: "debug" },
        flags: { listen: "[::1]:3333", logLevel: "error" },
        listen: "[::1]:3333",
        level: "error",
      },
      {
        name: "flags over file, unset flags do not override",
        flags: { listen: "127.0.0.1:0", logLevel: undefined },
        listen: "127.0.0.1:0",
        level: "warn",
      },
    ];
    for (const c of cases) {
      await t.step(c.name, async () => {
        const config = await loadConfig({ file, env: { HOME, ...c.env }, flags: c.flags ?? {} });
        assert.equal(config.server.listen, c.listen);
        assert.equal(config.log.level, c.level);
        // Mappings merge: the file's other settings and the defaults survive.
        assert.equal(config.container.memory, 1024 ** 3);
        assert.equal(config.container.image, "busybox");
        assert.deepEqual(config.container.env, { A: "1" });
      });
    }
  });
});

Deno.test("loadConfig() reads the file named by CAPSULE_CONFIG unless one is given", async () => {
  await withDir(async (dir) => {
    await Deno.writeTextFile(`${dir}/a.yaml`, "server: { banner: from-a }\n");
    await Deno.writeTextFile(`${dir}/b.yaml`, "server: { banner: from-b }\n");
    const env = { HOME, CAPSULE_CONFIG: `${dir}/a.yaml` };
    assert.equal((await loadConfig({ env })).server.banner, "from-a");
    assert.equal((await loadConfig({ env, file: `${dir}/b.yaml` })).server.banner, "from-b");
  });
});

Deno.test("loadConfig() parses typed environment variables and replaces lists", async () => {
  const config = await loadConfig({
    env: {
      HOME,
      CAPSULE_CONTAINER_MEMORY: "256m",
      CAPSULE_CONTAINER_CPUS: "0.5",
      CAPSULE_CONTAINER_PIDS: "64",
      CAPSULE_SESSION_ENV_ALLOW: "LANG, TERM_*",
      CAPSULE_SERVER_HOST_KEYS: "/k/a,/k/b",
    },
  });
  assert.equal(config.container.memory, 256 * 1024 * 1024);
  assert.equal(config.container.cpus, 0.5);
  assert.equal(config.container.pids, 64);
  assert.deepEqual(config.session.envAllow, ["LANG", "TERM_*"]);
  assert.deepEqual(config.server.hostKeys, ["/k/a", "/k/b"]);
});

Deno.test("loadConfig() reports an unknown key at its line and column with a suggestion", async () => {
  await withDir(async (dir) => {
    const file = `${dir}/config.yaml`;
    await Deno.writeTextFile(file, "container:\n  image: alpine\n  imag: busybox\n");
    const error = await configError(loadConfig({ file, env: { HOME } }));
    assert.equal(
      error.message,
      `${file}:3:3: unknown option "container.imag": did you mean "image"?`,
    );
    assert.deepEqual(error.issues[0]?.path, ["container", "imag"]);
  });
});

Deno.test("loadConfig() reports a bad size at the value's line and column", async () => {
  await withDir(async (dir) => {
    const file = `${dir}/config.yaml`;
    await Deno.writeTextFile(file, "# limits\ncontainer:\n  pids: 10\n  memory: lots\n");
    const error = await configError(loadConfig({ file, env: { HOME } }));
    assert.equal(
      error.message,
      `${file}:4:11: "container.memory" must be a size like "256m": got "lots"`,
    );
  });
});

Deno.test("loadConfig() reports every issue, one per line, in a user's overrides too", async () => {
  await withDir(async (dir) => {
    const file = `${dir}/config.yaml`;
    await Deno.writeTextFile(
      file,
      [
        "users:",
        "  alice:",
        "    passwordHash: plain-text",
        "    container:",
        "      memory: 1m",
        '      mounts: ["/srv:relative"]',
        "  Bad Name: {}",
      ].join("\n"),
    );
    const error = await configError(loadConfig({ file, env: { HOME } }));
    const lines = error.message.split("\n");
    assert.equal(lines.length, 4);
    assert.match(
      lines[0]!,
      /:3:19: "users\.alice\.passwordHash" must be a hash made by "capsule hash-password"/,
    );
    assert.match(
      lines[1]!,
      /:5:15: "users\.alice\.container\.memory" must be 0 \(no limit\) or a size of at least "6m"/,
    );
    assert.match(
      lines[2]!,
      /:6:16: "users\.alice\.container\.mounts\[0\]\.target" must be an absolute path/,
    );
    assert.match(lines[3]!, /:7:3: "users\.Bad Name": key must be a user name/);
  });
});

Deno.test("loadConfig() reports YAML syntax errors with line and column", async () => {
  await withDir(async (dir) => {
    const file = `${dir}/config.yaml`;
    await Deno.writeTextFile(file, "server:\n  listen: 127.0.0.1:2222\n  listen: 127.0.0.1:2223\n");
    const error = await configError(loadConfig({ file, env: { HOME } }));
    assert.equal(error.message, `${file}:3:3: Map keys must be unique`);
  });
});

Deno.test("loadConfig() refuses a file that is not a mapping", async () => {
  await withDir(async (dir) => {
    const file = `${dir}/config.yaml`;
    await Deno.writeTextFile(file, "- server\n- container\n");
    const error = await configError(loadConfig({ file, env: { HOME } }));
    assert.equal(
      error.message,
      `${file}:1:1: expected a mapping of options at the top level: got a list`,
    );
  });
});

Deno.test("loadConfig() names a missing file", async () => {
  const error = await configError(loadConfig({ file: "/nonexistent/capsule.yaml", env: { HOME } }));
  assert.equal(error.message, `Cannot read config file "/nonexistent/capsule.yaml": No such file`);
});

Deno.test("loadConfig() refuses unknown CAPSULE_ variables with a suggestion", async () => {
  const error = await configError(loadConfig({ env: { HOME, CAPSULE_CONTAINER_IMAG: "alpine" } }));
  assert.equal(
    error.message,
    `environment: unknown variable "CAPSULE_CONTAINER_IMAG": did you mean "CAPSULE_CONTAINER_IMAGE"?`,
  );
});

Deno.test("loadConfig() names the variable or flag that set a bad value", async () => {
  const error = await configError(loadConfig({
    env: { HOME, CAPSULE_CONTAINER_MEMORY: "lots", CAPSULE_CONTAINER_PULL: "sometimes" },
    flags: { listen: "localhost", logFormat: "xml" },
  }));
  assert.deepEqual(error.message.split("\n"), [
    `environment CAPSULE_CONTAINER_PULL: "container.pull" must be one of "if-not-present", "always", "never": got "sometimes"`,
    `environment CAPSULE_CONTAINER_MEMORY: "container.memory" must be a size like "256m": got "lots"`,
    `flag --listen: "server.listen" must be "host:port" with a port from 0 to 65535, like "127.0.0.1:2222" or "[::1]:2222": got "localhost"`,
    `flag --log-format: "log.format" must be one of "auto", "json", "text": got "xml"`,
  ]);
});

Deno.test("loadConfig() resolves file paths against the file's directory, others against cwd", async () => {
  await withDir(async (dir) => {
    await Deno.mkdir(`${dir}/etc`);
    const file = `${dir}/etc/config.yaml`;
    await Deno.writeTextFile(
      file,
      [
        "server:",
        "  stateDir: state",
        "  hostKeys: [keys/host, /abs/key, ~/key]",
        "auth:",
        "  anyUserKeysFiles: [../shared/keys]",
        "container:",
        "  mounts:",
        "    - ./site:/var/www:ro",
        "    - { source: ~/data, target: /data }",
        "users:",
        "  alice:",
        "    authorizedKeysFiles: [alice.pub]",
        '    container: { mounts: ["www:/www"] }',
      ].join("\n"),
    );
    const config = await loadConfig({ file, env: { HOME }, cwd: "/work" });
    assert.equal(config.server.stateDir, `${dir}/etc/state`);
    assert.deepEqual(config.server.hostKeys, [`${dir}/etc/keys/host`, "/abs/key", `${HOME}/key`]);
    assert.deepEqual(config.auth.anyUserKeysFiles, [`${dir}/shared/keys`]);
    assert.deepEqual(config.container.mounts, [
      { source: `${dir}/etc/site`, target: "/var/www", readOnly: true },
      { source: `${HOME}/data`, target: "/data", readOnly: false },
    ]);
    assert.deepEqual(config.users["alice"]?.authorizedKeysFiles, [`${dir}/etc/alice.pub`]);
    assert.deepEqual(config.users["alice"]?.container.mounts, [
      { source: `${dir}/etc/www`, target: "/www", readOnly: false },
    ]);

    const overridden = await loadConfig({
      file,
      env: { HOME, CAPSULE_SERVER_STATE_DIR: "env-state" },
      flags: { hostKeys: ["flag-key"] },
      cwd: "/work",
    });
    assert.equal(overridden.server.stateDir, "/work/env-state");
    assert.deepEqual(overridden.server.hostKeys, ["/work/flag-key"]);
  });
});

Deno.test("loadConfig() fills in a user's defaults", async () => {
  await withDir(async (dir) => {
    const file = `${dir}/config.yaml`;
    await Deno.writeTextFile(
      file,
      "users:\n  bob:\n    authorizedKeys: ['ssh-ed25519 AAAA bob']\n",
    );
    const config = await loadConfig({ file, env: { HOME } });
    assert.deepEqual(config.users, {
      bob: { authorizedKeys: ["ssh-ed25519 AAAA bob"], authorizedKeysFiles: [], container: {} },
    });
  });
});

Deno.test("loadConfig() refuses isolation-weakening settings unless named unsafe", async (t) => {
  const dir = await Deno.makeTempDir();
  try {
    const cases: [string, string, RegExp][] = [
      [
        "privileged",
        "container:\n  privileged: true\n",
        /"container\.privileged" is refused.*unsafe\.privileged/,
      ],
      [
        "host network for a user",
        "users:\n  bob:\n    container:\n      network: host\n",
        /"users\.bob\.container\.network" is refused.*unsafe\.hostNamespaces/,
      ],
      [
        "the engine socket",
        'container:\n  mounts: ["/var/run/docker.sock:/var/run/docker.sock"]\n',
        /:2:\d+: "container\.mounts\[0\]\.source" is refused.*unsafe\.engineSocket/,
      ],
    ];
    cases.push(
      [
        "another container's namespace",
        'container:\n  network: "container:db"\n',
        /"container\.network" is refused.*joins another container.*unsafe\.hostNamespaces/,
      ],
      [
        "the folder holding the socket",
        'container:\n  mounts: ["/run:/hostrun"]\n',
        /"\/run" is or holds the container engine's socket.*unsafe\.engineSocket/,
      ],
    );
    for (const [name, yaml, message] of cases) {
      await t.step(name, async () => {
        const file = `${dir}/${name.replaceAll(" ", "_")}.yaml`;
        await Deno.writeTextFile(file, yaml);
        await assert.rejects(() => loadConfig({ file, env: {} }), message);
        const flag = name === "privileged"
          ? "privileged"
          : name.includes("socket")
          ? "engineSocket"
          : "hostNamespaces";
        await Deno.writeTextFile(file, `${yaml}unsafe:\n  ${flag}: true\n`);
        await loadConfig({ file, env: {} });
      });
    }
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("loadConfig() reads a TOTP secret or its file, and never quotes a bad secret", async (t) => {
  await withDir(async (dir) => {
    const file = `${dir}/config.yaml`;
    const secret = "GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ";
    await t.step("inline or as a file, relative to the config", async () => {
      await Deno.writeTextFile(
        file,
        [
          "users:",
          "  alice:",
          `    totpSecret: ${secret.toLowerCase()}`,
          "  bob:",
          "    totpSecretFile: secrets/bob",
        ].join("\n"),
      );
      const config = await loadConfig({ file, env: { HOME } });
      assert.equal(config.users["alice"]?.totpSecret, secret.toLowerCase());
      assert.equal(config.users["bob"]?.totpSecretFile, `${dir}/secrets/bob`);
    });
    const cases: [string, string[], RegExp][] = [
      [
        "a character outside base32",
        [`    totpSecret: ${secret.slice(0, -1)}1`],
        /"users\.alice\.totpSecret" must be a base32 TOTP secret/,
      ],
      [
        "fewer than 128 bits",
        [`    totpSecret: ${secret.slice(0, 24)}`],
        /"users\.alice\.totpSecret" must be a base32 TOTP secret of at least 26 characters/,
      ],
      [
        "a length no encoder makes",
        [`    totpSecret: ${secret}AAA`],
        /"users\.alice\.totpSecret" must be a base32 TOTP secret/,
      ],
      [
        "both a secret and a file",
        [`    totpSecret: ${secret}`, "    totpSecretFile: /etc/secret"],
        /"users\.alice\.totpSecretFile" must be left out when "totpSecret" is set/,
      ],
    ];
    for (const [name, lines, message] of cases) {
      await t.step(name, async () => {
        await Deno.writeTextFile(file, ["users:", "  alice:", ...lines].join("\n"));
        const error = await configError(loadConfig({ file, env: { HOME } }));
        assert.match(error.message, message);
        assert.doesNotMatch(error.message, /GEZDG/, "the secret is quoted");
      });
    }
  });
});
