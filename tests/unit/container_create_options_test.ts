import assert from "node:assert/strict";
import { containerCreateOptions } from "../../src/runtime/_container_create_options.ts";
import type { ContainerSpec } from "../../src/runtime/mod.ts";

const SPEC: ContainerSpec = {
  name: "capsule-s1",
  image: "busybox",
  cmd: ["/bin/sh", "-c", "true"],
  shell: "/bin/sh",
  env: ["LANG=C"],
  tty: false,
  labels: { "io.capsule.managed": "true" },
  workdir: "/root",
  user: "",
  hostname: "box",
  memory: 512 * 1024 * 1024,
  cpus: 1.5,
  pids: 256,
  network: "none",
  mounts: [
    { source: "/srv/a", target: "/a", readOnly: true },
    { source: "/srv/b", target: "/b", readOnly: false },
  ],
  capAdd: ["NET_BIND_SERVICE"],
  noNewPrivileges: true,
  privileged: false,
};

Deno.test("containerCreateOptions() locks the container down and applies the limits", () => {
  const host = containerCreateOptions(SPEC, true).HostConfig;
  assert.equal(host?.Init, true);
  assert.deepEqual(host?.CapDrop, ["ALL"]);
  assert.deepEqual(host?.CapAdd, ["NET_BIND_SERVICE"]);
  assert.deepEqual(host?.SecurityOpt, ["no-new-privileges"]);
  assert.equal(host?.Privileged, false);
  assert.deepEqual(host?.LogConfig, { Type: "none", Config: {} });
  assert.equal(host?.NetworkMode, "none");
  assert.equal(host?.Memory, 512 * 1024 * 1024);
  assert.equal(host?.MemorySwap, 512 * 1024 * 1024, "no swap on top of the memory");
  assert.equal(host?.NanoCpus, 1_500_000_000);
  assert.equal(host?.PidsLimit, 256);
  assert.deepEqual(host?.Binds, ["/srv/a:/a:ro", "/srv/b:/b"]);
});

Deno.test("containerCreateOptions() sets no process limit for pids 0 and no no-new-privileges when off", () => {
  const host = containerCreateOptions({ ...SPEC, pids: 0, noNewPrivileges: false }, true)
    .HostConfig;
  assert.equal(host?.PidsLimit, null);
  assert.deepEqual(host?.SecurityOpt, []);
});

Deno.test("containerCreateOptions() attaches stdin once to a session's own container only", () => {
  const own = containerCreateOptions(SPEC, true);
  assert.equal(own.StdinOnce, true);
  assert.equal(own.AttachStdin, true);
  const host = containerCreateOptions(SPEC, false);
  assert.equal(host.OpenStdin, true);
  assert.equal(host.StdinOnce, false);
  assert.equal(host.AttachStdin, false);
  assert.deepEqual(host.Cmd, SPEC.cmd);
});

Deno.test("containerCreateOptions() holds an attached TTY command back until it is sized", () => {
  const tty = containerCreateOptions({ ...SPEC, tty: true }, true);
  // `<shell> -c '<wait for the size>; exec "$@"' capsule <cmd...>`
  assert.deepEqual(tty.Cmd?.slice(0, 2), ["/bin/sh", "-c"]);
  assert.match(tty.Cmd?.[2] ?? "", /stty size[\s\S]*exec "\$@"$/);
  assert.deepEqual(tty.Cmd?.slice(3), ["capsule", ...SPEC.cmd]);
  assert.deepEqual(containerCreateOptions({ ...SPEC, tty: true }, false).Cmd, SPEC.cmd);
});
