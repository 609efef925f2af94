import assert from "node:assert/strict";
import { configEnvNames, parseSize } from "../../src/config/mod.ts";
import { configSchema, containerSchema } from "../../src/config/config_schema.ts";
import { mount } from "../../src/config/mount_schema.ts";
import { partial } from "../../src/config/object_schema.ts";
import type { ParseContext } from "../../src/config/schema.ts";

const context: ParseContext = {
  resolvePath: (_path, value) => value.startsWith("/") ? value : `/base/${value}`,
};

Deno.test("parseSize() reads bytes and binary units", async (t) => {
  const cases: [string | number, number][] = [
    [0, 0],
    [1234, 1234],
    ["1234", 1234],
    ["512k", 512 * 1024],
    ["256m", 256 * 1024 ** 2],
    ["256MiB", 256 * 1024 ** 2],
    ["1g", 1024 ** 3],
    ["1.5G", 1.5 * 1024 ** 3],
    ["2gb", 2 * 1024 ** 3],
    ["10b", 10],
  ];
  for (const [input, bytes] of cases) {
    await t.step(JSON.stringify(input), () => assert.equal(parseSize(input), bytes));
  }
});

Deno.test("parseSize() refuses what is not a size", async (t) => {
  for (const input of ["lots", "", "-1m", "1x", "m", 1.5, -3]) {
    await t.step(JSON.stringify(input), () => {
      assert.throws(() => parseSize(input), {
        name: "TypeError",
        message: `Cannot parse size ${JSON.stringify(input)}: expected bytes or a size like "256m"`,
      });
    });
  }
});

Deno.test("mount() accepts the short and the long form", () => {
  const schema = mount();
  assert.deepEqual(schema.parse("site:/var/www:ro", ["m"], context), {
    ok: true,
    value: { source: "/base/site", target: "/var/www", readOnly: true },
  });
  assert.deepEqual(schema.parse("/srv:/srv:rw", ["m"], context), {
    ok: true,
    value: { source: "/srv", target: "/srv", readOnly: false },
  });
  assert.deepEqual(schema.parse({ source: "/a", target: "/b" }, ["m"], context), {
    ok: true,
    value: { source: "/a", target: "/b", readOnly: false },
  });
});

Deno.test("mount() refuses bad forms, relative targets and unknown keys", () => {
  const messages = (input: unknown) => {
    const result = mount().parse(input, ["container", "mounts", 0], context);
    assert.ok(!result.ok);
    return result.issues.map((i) => i.message);
  };
  assert.match(messages("/a:/b:rx")[0]!, /^"container\.mounts\[0\]" must be a mount like/);
  assert.match(messages("/a")[0]!, /^"container\.mounts\[0\]" must be a mount like/);
  assert.deepEqual(messages("/a:b"), [
    `"container.mounts[0].target" must be an absolute path like "/srv": got "b"`,
  ]);
  assert.deepEqual(messages({ source: "/a", target: "/b", readonly: true }), [
    `unknown option "container.mounts[0].readonly": did you mean "readOnly"?`,
  ]);
  assert.deepEqual(messages({ target: "/b" }), [`missing option "container.mounts[0].source"`]);
});

Deno.test("an unknown key far from every known key lists the known keys", () => {
  const result = configSchema.shape["log"]!.parse({ level: "info", format: "json", colour: 1 }, [
    "log",
  ], context);
  assert.ok(!result.ok);
  assert.deepEqual(result.issues, [{
    path: ["log", "colour"],
    atKey: true,
    message: `unknown option "log.colour": expected one of "level", "format"`,
  }]);
});

Deno.test("partial() keeps the rules but makes every key optional", () => {
  const schema = partial(containerSchema);
  assert.deepEqual(schema.parse({}, ["c"], context), { ok: true, value: {} });
  assert.deepEqual(schema.parse({ memory: "1g", env: { A: "b" } }, ["c"], context), {
    ok: true,
    value: { env: { A: "b" }, memory: 1024 ** 3 },
  });
  const bad = schema.parse({ shell: "sh", env: { "1A": "x" }, cpus: -1 }, ["c"], context);
  assert.ok(!bad.ok);
  assert.deepEqual(bad.issues.map((i) => i.message), [
    `"c.shell" must be an absolute path like "/bin/sh": got "sh"`,
    `"c.env.1A": key must be a variable name like "LANG": got "1A"`,
    `"c.cpus" must be a number of 0 or more: got -1`,
  ]);
});

Deno.test("configEnvNames() names every option outside users that text can set", () => {
  assert.deepEqual(configEnvNames(), [
    "CAPSULE_SERVER_LISTEN",
    "CAPSULE_SERVER_HOST_KEYS",
    "CAPSULE_SERVER_STATE_DIR",
    "CAPSULE_SERVER_BANNER",
    "CAPSULE_SERVER_LOGIN_TIMEOUT",
    "CAPSULE_SERVER_MAX_AUTH_TRIES",
    "CAPSULE_SERVER_MAX_STARTUPS",
    "CAPSULE_SERVER_MAX_STARTUPS_PER_SOURCE",
    "CAPSULE_SERVER_MAX_SESSIONS",
    "CAPSULE_SERVER_IDLE_TIMEOUT",
    "CAPSULE_SERVER_KEEPALIVE_INTERVAL",
    "CAPSULE_SERVER_KEEPALIVE_COUNT_MAX",
    "CAPSULE_SERVER_PENALTIES_ENABLED",
    "CAPSULE_SERVER_PENALTIES_AUTH_FAIL",
    "CAPSULE_SERVER_PENALTIES_NO_AUTH",
    "CAPSULE_SERVER_PENALTIES_LOGIN_TIMEOUT",
    "CAPSULE_SERVER_PENALTIES_MIN",
    "CAPSULE_SERVER_PENALTIES_MAX",
    "CAPSULE_SERVER_INSTANCE",
    "CAPSULE_SERVER_DRAIN_TIMEOUT",
    "CAPSULE_SERVER_SWEEP_INTERVAL",
    "CAPSULE_SERVER_METRICS_LISTEN",
    "CAPSULE_SERVER_USER_SOCKETS_DIR",
    "CAPSULE_SERVER_USER_SOCKETS_USERS",
    "CAPSULE_LOG_LEVEL",
    "CAPSULE_LOG_FORMAT",
    "CAPSULE_AUTH_ANY_USER_KEYS_FILES",
    "CAPSULE_AUTH_TRUSTED_USER_CA_KEYS",
    "CAPSULE_AUTH_REVOKED_CERTIFICATES_SERIALS",
    "CAPSULE_AUTH_REVOKED_CERTIFICATES_KEYS",
    "CAPSULE_SESSION_ENV_ALLOW",
    "CAPSULE_AUDIT_FILE",
    "CAPSULE_AUDIT_SFTP_EVENTS_PER_SESSION",
    "CAPSULE_RECORDING_DIR",
    "CAPSULE_RECORDING_INPUT",
    "CAPSULE_DOCKER_HOST",
    "CAPSULE_DOCKER_TLS_CA",
    "CAPSULE_DOCKER_TLS_CERT",
    "CAPSULE_DOCKER_TLS_KEY",
    "CAPSULE_DOCKER_CONFIG_FILE",
    "CAPSULE_DOCKER_PRE_PULL",
    "CAPSULE_DOCKER_REFRESH_INTERVAL",
    "CAPSULE_CONTAINER_IMAGE",
    "CAPSULE_CONTAINER_PULL",
    "CAPSULE_CONTAINER_SHELL",
    "CAPSULE_CONTAINER_WORKDIR",
    "CAPSULE_CONTAINER_USER",
    "CAPSULE_CONTAINER_MEMORY",
    "CAPSULE_CONTAINER_CPUS",
    "CAPSULE_CONTAINER_PIDS",
    "CAPSULE_CONTAINER_DISK",
    "CAPSULE_CONTAINER_ULIMITS_NOFILE",
    "CAPSULE_CONTAINER_ULIMITS_NPROC",
    "CAPSULE_CONTAINER_ULIMITS_CORE",
    "CAPSULE_CONTAINER_READ_ONLY_ROOTFS",
    "CAPSULE_CONTAINER_NETWORK",
    "CAPSULE_CONTAINER_HOSTNAME",
    "CAPSULE_CONTAINER_CAP_ADD",
    "CAPSULE_CONTAINER_NO_NEW_PRIVILEGES",
    "CAPSULE_CONTAINER_PRIVILEGED",
    "CAPSULE_CONTAINER_IDLE_TIMEOUT",
    "CAPSULE_CONTAINER_MAX_SESSION_TIME",
    "CAPSULE_CONTAINER_MODE",
    "CAPSULE_CONTAINER_GRACE_PERIOD",
    "CAPSULE_CONTAINER_MAX_LIFETIME",
    "CAPSULE_CONTAINER_POOL_SIZE",
    "CAPSULE_CONTAINER_FORWARDING_LOCAL",
    "CAPSULE_CONTAINER_FORWARDING_REMOTE",
    "CAPSULE_CONTAINER_FORWARDING_GATEWAY_PORTS",
    "CAPSULE_CONTAINER_FORWARDING_AGENT",
    "CAPSULE_CONTAINER_SFTP_ENABLED",
    "CAPSULE_CONTAINER_SFTP_READ_ONLY",
    "CAPSULE_WEBHOOKS_AUTH_URL",
    "CAPSULE_WEBHOOKS_AUTH_TIMEOUT",
    "CAPSULE_WEBHOOKS_AUTH_RETRIES",
    "CAPSULE_WEBHOOKS_AUTH_CA_CERT",
    "CAPSULE_WEBHOOKS_AUTH_CLIENT_CERT",
    "CAPSULE_WEBHOOKS_AUTH_CLIENT_KEY",
    "CAPSULE_WEBHOOKS_AUTH_FORMAT",
    "CAPSULE_WEBHOOKS_CONFIG_URL",
    "CAPSULE_WEBHOOKS_CONFIG_TIMEOUT",
    "CAPSULE_WEBHOOKS_CONFIG_RETRIES",
    "CAPSULE_WEBHOOKS_CONFIG_CA_CERT",
    "CAPSULE_WEBHOOKS_CONFIG_CLIENT_CERT",
    "CAPSULE_WEBHOOKS_CONFIG_CLIENT_KEY",
    "CAPSULE_LIMITS_SESSIONS_PER_USER",
    "CAPSULE_LIMITS_CONNECTIONS_PER_USER",
    "CAPSULE_LIMITS_CONTAINERS",
    "CAPSULE_LIMITS_FORWARDS_PER_CONNECTION",
    "CAPSULE_LIMITS_LISTENERS_PER_CONNECTION",
    "CAPSULE_UNSAFE_PRIVILEGED",
    "CAPSULE_UNSAFE_HOST_NAMESPACES",
    "CAPSULE_UNSAFE_ENGINE_SOCKET",
  ]);
});
