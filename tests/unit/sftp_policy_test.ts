import assert from "node:assert/strict";
import { defaultConfig } from "../../src/config/mod.ts";
import { sessionCommand, wantsTty } from "../../src/lifecycle/_session_command.ts";
import { createLogger } from "../../src/log/mod.ts";
import { containerCreateOptions } from "../../src/runtime/_container_create_options.ts";
import { refusalOf } from "../../src/server/refusal_of.ts";
import { ToolsInstaller } from "../../src/server/tools_installer.ts";
import { EnvAllowList, Session } from "../../src/session/mod.ts";
import { FakeChannel } from "../helpers/fake_channel.ts";
import { FakeRuntime } from "../helpers/fake_runtime.ts";

const CONTAINER = defaultConfig().container;

Deno.test("refusalOf() serves shells, commands and sftp, and refuses the rest", () => {
  assert.equal(refusalOf({ kind: "shell" }, CONTAINER), undefined);
  assert.equal(refusalOf({ kind: "exec", command: "true" }, CONTAINER), undefined);
  assert.equal(refusalOf({ kind: "subsystem", name: "sftp" }, CONTAINER), undefined);
  assert.equal(refusalOf({ kind: "subsystem", name: "netconf" }, CONTAINER), "unknown subsystem");
  const off = { ...CONTAINER, sftp: { enabled: false, readOnly: false } };
  assert.match(refusalOf({ kind: "subsystem", name: "sftp" }, off) ?? "", /turned off/);
  assert.equal(refusalOf({ kind: "exec", command: "true" }, off), undefined);
});

Deno.test("sessionCommand() starts an sftp server, read-only when asked, never on a TTY", () => {
  const sftp = { request: { kind: "subsystem", name: "sftp" } as const };
  const [shell, flag, script, name, ...args] = sessionCommand(sftp, CONTAINER);
  assert.deepEqual([shell, flag, name, args], ["/bin/sh", "-c", "sftp-server", []]);
  assert.match(script ?? "", /\/usr\/lib\/openssh\/sftp-server/, "the image's own first");
  assert.match(script ?? "", /id -un/, "only for a user with a name");
  assert.match(script ?? "", /exec \/\.capsule\/bin\/sftp-server "\$@"$/, "capsule's last");
  const readOnly = sessionCommand(sftp, { ...CONTAINER, sftp: { enabled: true, readOnly: true } });
  assert.deepEqual(readOnly.slice(3), ["sftp-server", "-R"]);
  const logged = { request: { kind: "subsystem", name: "sftp", log: true } as const };
  assert.deepEqual(
    sessionCommand(logged, { ...CONTAINER, sftp: { enabled: true, readOnly: true } }).slice(3),
    ["sftp-server", "-R", "-e", "-l", "INFO"],
    "the audit has it log its operations on stderr",
  );
  const pty = { term: "xterm", cols: 80, rows: 24 };
  assert.equal(wantsTty({ ...sftp, pty }), false);
  assert.equal(wantsTty({ request: { kind: "shell" }, pty }), true);
});

Deno.test("Session.admits() refuses by policy, logs why, and the channel may still start", async () => {
  const lines: string[] = [];
  const session = new Session({
    id: "s1",
    connectionId: "c1",
    identity: { username: "alice", method: "password" },
    logger: createLogger({ level: "info", sink: (record) => lines.push(JSON.stringify(record)) }),
    envAllow: new EnvAllowList([]),
    handler: () => Promise.resolve({ code: 0 }),
    refusal: (request) => request.kind === "subsystem" ? "unknown subsystem" : undefined,
  });
  assert.equal(session.admits({ kind: "subsystem", name: "x".repeat(500) }), false);
  const record = JSON.parse(lines.at(-1) ?? "{}");
  assert.equal(record.event, "session.refused");
  assert.equal(record.reason, "unknown subsystem");
  assert.equal(record.subsystem.length, 64, "a client's name is cut short in the log");
  assert.equal(session.canStart, true);
  assert.equal(session.admits({ kind: "shell" }), true);
  const channel = new FakeChannel();
  assert.equal(session.start({ kind: "shell" }, channel), true);
  assert.deepEqual(await channel.finished, { code: 0 });
});

Deno.test("containerCreateOptions() mounts the tools volume read-only at /.capsule", () => {
  const spec = {
    name: "n",
    image: "busybox",
    pull: "if-not-present",
    cmd: ["/bin/sh"],
    shell: "/bin/sh",
    env: [],
    tty: false,
    labels: {},
    workdir: "",
    user: "",
    hostname: "",
    memory: 0,
    cpus: 0,
    pids: 0,
    network: "none",
    mounts: [],
    capAdd: [],
    noNewPrivileges: true,
    privileged: false,
    disk: 0,
    readOnlyRootfs: true,
    tmpfs: {},
    ulimits: {},
  };
  const host = containerCreateOptions(spec, true, { toolsVolume: "capsule-tools-abc" }).HostConfig;
  assert.deepEqual(host?.Mounts, [
    { Type: "volume", Source: "capsule-tools-abc", Target: "/.capsule", ReadOnly: true },
  ]);
  assert.equal(containerCreateOptions(spec, true).HostConfig?.Mounts, undefined);
});

Deno.test("ToolsInstaller installs a build, says when there is none, and retries the engine", async () => {
  const lines: string[] = [];
  const logger = createLogger({
    level: "debug",
    sink: (record) => lines.push(JSON.stringify(record)),
  });
  const events = () => lines.map((l) => JSON.parse(l).event);
  const build = { dir: "/tools", hash: "abc123", files: [] };

  const runtime = new FakeRuntime();
  await new ToolsInstaller(runtime, {
    image: "busybox",
    pull: "if-not-present",
    logger,
    find: () => Promise.resolve(build),
  })
    .install();
  assert.deepEqual(runtime.callsOf("installTools"), [
    { op: "installTools", image: "busybox", hash: "abc123" },
  ]);
  assert.ok(events().includes("tools.ready"));

  lines.length = 0;
  await new ToolsInstaller(new FakeRuntime(), {
    image: "busybox",
    pull: "if-not-present",
    logger,
    find: () => Promise.resolve(undefined),
  }).install();
  assert.deepEqual(events(), ["tools.missing"]);

  lines.length = 0;
  const flaky = new FakeRuntime();
  let failures = 1;
  const install = flaky.installTools.bind(flaky);
  flaky.installTools = (tools, image) =>
    failures-- > 0 ? Promise.reject(new Error("engine down")) : install(tools, image);
  const installer = new ToolsInstaller(flaky, {
    image: "busybox",
    pull: "if-not-present",
    logger,
    retryMs: 10,
    find: () => Promise.resolve(build),
  });
  await installer.install();
  await new Promise((r) => setTimeout(r, 50));
  installer.stop();
  assert.deepEqual(events(), ["tools.install_failed", "tools.ready"]);
});
