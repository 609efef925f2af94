import assert from "node:assert/strict";
import { parseConfigAnswer } from "../../src/webhook/mod.ts";

function problems(json: unknown): string {
  const parsed = parseConfigAnswer(json);
  assert.ok(!parsed.ok, "expected the answer to be refused");
  return parsed.problems.join("\n");
}

Deno.test("parseConfigAnswer() takes capsule's shape, validated as the YAML file is", async (t) => {
  await t.step("a profile and overrides", () => {
    const parsed = parseConfigAnswer({
      profile: "php",
      container: {
        image: "php:8-cli",
        env: { APP: "web" },
        memory: "1g",
        mounts: ["/srv/www/alice:/var/www:ro"],
        forwarding: { local: true },
        sftp: { readOnly: true },
      },
    });
    assert.ok(parsed.ok);
    assert.equal(parsed.shape, "capsule");
    assert.equal(parsed.answer.profile, "php");
    assert.equal(parsed.answer.container?.memory, 2 ** 30);
    assert.deepEqual(parsed.answer.container?.mounts, [
      { source: "/srv/www/alice", target: "/var/www", readOnly: true },
    ]);
    assert.deepEqual(parsed.answer.container?.forwarding, {
      local: true,
      remote: false,
      gatewayPorts: false,
      agent: false,
    });
  });
  await t.step("an empty answer changes nothing", () => {
    const parsed = parseConfigAnswer({});
    assert.ok(parsed.ok);
    assert.deepEqual(parsed.answer, {});
  });
  const cases: [string, unknown, RegExp][] = [
    ["not an object", [1, 2], /not a JSON object/],
    ["null", null, /not a JSON object/],
    ["an unknown member", { profil: "php" }, /"profil".*profile/],
    ["an unknown setting", { container: { imgae: "x" } }, /"container\.imgae".*image/],
    ["a bad size", { container: { memory: "lots" } }, /"container\.memory" must be/],
    ["a bad mode", { container: { mode: "forever" } }, /"container\.mode" must be one of/],
    ["a relative mount source", { container: { mounts: ["srv:/x"] } }, /absolute path/],
    ["a home-relative mount source", { container: { mounts: ["~/x:/x"] } }, /absolute path/],
    ["a bad profile name", { profile: "../etc" }, /"profile" must be a profile name/],
  ];
  for (const [name, json, message] of cases) {
    await t.step(name, () => assert.match(problems(json), message));
  }
  await t.step("a mount source is normalized", () => {
    const parsed = parseConfigAnswer({ container: { mounts: ["/srv/a/../b:/x"] } });
    assert.ok(parsed.ok);
    assert.equal(parsed.answer.container?.mounts?.[0]?.source, "/srv/b");
  });
});

/**
 * ContainerSSH's example answer, as its Go library's servers send it: every
 * field present, most of them zero, the docker backend's settings set.
 */
const CONTAINERSSH_ANSWER = {
  username: "alice",
  remoteAddress: "127.0.0.1:50122",
  connectionId: "0123456789ABCDEF",
  metadata: { team: { value: "web", sensitive: false } },
  environment: {},
  files: {},
  config: {
    ssh: { listen: "", serverVersion: "", ciphers: null, hostkeys: null },
    configserver: { url: "", timeout: 0, transmitSensitiveMetadata: false },
    log: { level: "", format: "" },
    security: { defaultMode: "", forceCommand: "", maxSessions: 0, env: { mode: "" } },
    backend: "docker",
    docker: {
      connection: { host: "", cert: "", key: "", cacert: "" },
      execution: {
        container: {
          Image: "php:8-cli",
          Env: ["APP=web", "GREETING=a=b"],
          User: "1000:1000",
          WorkingDir: "/var/www",
          Hostname: "alice-box",
          Cmd: null,
          Labels: null,
        },
        host: {
          Binds: ["/srv/www/alice:/var/www:ro"],
          NetworkMode: "bridge",
          Memory: 268435456,
          NanoCpus: 500000000,
          PidsLimit: 64,
          CapAdd: ["CHOWN"],
          ReadonlyRootfs: true,
          Tmpfs: { "/tmp": "size=64m,mode=1777" },
          Privileged: false,
          Mounts: [{ Type: "bind", Source: "/srv/cache", Target: "/cache", ReadOnly: false }],
        },
        network: null,
        platform: null,
        containername: "",
        mode: "connection",
        idleCommand: ["/usr/bin/containerssh-agent", "wait-signal"],
        shellCommand: ["/bin/bash"],
        agentPath: "/usr/bin/containerssh-agent",
        disableAgent: true,
        subsystems: { sftp: "/usr/lib/openssh/sftp-server" },
        imagePullPolicy: "Never",
      },
      timeouts: { containerStart: 60000000000, http: 15000000000 },
    },
    kubernetes: { connection: { host: "" } },
    sshproxy: { server: "", port: 0 },
  },
};

Deno.test("parseConfigAnswer() maps ContainerSSH's answer to capsule's settings", () => {
  const parsed = parseConfigAnswer(CONTAINERSSH_ANSWER);
  assert.ok(parsed.ok, JSON.stringify(parsed));
  assert.equal(parsed.shape, "containerssh");
  assert.deepEqual(parsed.answer.container, {
    image: "php:8-cli",
    env: { APP: "web", GREETING: "a=b" },
    user: "1000:1000",
    workdir: "/var/www",
    hostname: "alice-box",
    mounts: [
      { source: "/srv/www/alice", target: "/var/www", readOnly: true },
      { source: "/srv/cache", target: "/cache", readOnly: false },
    ],
    network: "bridge",
    memory: 268435456,
    cpus: 0.5,
    pids: 64,
    capAdd: ["CHOWN"],
    readOnlyRootfs: true,
    tmpfs: { "/tmp": 64 * 2 ** 20 },
    mode: "connection",
    shell: "/bin/bash",
    pull: "never",
  });
});

Deno.test("parseConfigAnswer() matches ContainerSSH's keys case-insensitively, as Go does", () => {
  const parsed = parseConfigAnswer({
    config: { docker: { execution: { container: { image: "busybox", env: ["A=1"] } } } },
  });
  assert.ok(parsed.ok);
  assert.deepEqual(parsed.answer.container, { image: "busybox", env: { A: "1" } });
});

Deno.test("parseConfigAnswer() refuses ContainerSSH settings capsule cannot honour", async (t) => {
  const docker = (execution: unknown) => ({ config: { docker: { execution } } });
  const cases: [string, unknown, RegExp][] = [
    ["another backend", { config: { backend: "kubernetes" } }, /"config\.backend".*"docker"/],
    [
      "security settings",
      { config: { security: { forwarding: { forwardingMode: "enable" } } } },
      /"config\.security" is set, but capsule takes it from its own config/,
    ],
    [
      "another engine",
      { config: { docker: { connection: { host: "tcp://elsewhere:2375" } } } },
      /"config\.docker\.connection" is set/,
    ],
    ["devices", docker({ host: { Devices: [{ PathOnHost: "/dev/kvm" }] } }), /Devices/],
    ["seccomp off", docker({ host: { SecurityOpt: ["seccomp=unconfined"] } }), /SecurityOpt/],
    ["a volume mount", docker({ host: { Mounts: [{ Type: "volume", Source: "v" }] } }), /bind/],
    ["a tmpfs without a size", docker({ host: { Tmpfs: { "/tmp": "mode=1777" } } }), /size=/],
    ["a shell with arguments", docker({ shellCommand: ["/bin/sh", "-l"] }), /list of one/],
    ["an unknown pull policy", docker({ imagePullPolicy: "Sometimes" }), /IfNotPresent/],
    ["an env entry without =", docker({ container: { Env: ["JUSTNAME"] } }), /NAME=value/],
    ["an unknown member", { config: {}, extra: 1 }, /unknown member "extra"/],
    ["a mode capsule does not have", docker({ mode: "pod" }), /"container\.mode" must be/],
  ];
  for (const [name, json, message] of cases) {
    await t.step(name, () => assert.match(problems(json), message));
  }
  await t.step("a privileged container maps, for the unsafe check to refuse", () => {
    const parsed = parseConfigAnswer(docker({ host: { Privileged: true, NetworkMode: "host" } }));
    assert.ok(parsed.ok);
    assert.equal(parsed.answer.container?.privileged, true);
    assert.equal(parsed.answer.container?.network, "host");
  });
});
