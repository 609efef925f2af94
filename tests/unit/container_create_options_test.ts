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
  disk: 1024 ** 3,
  readOnlyRootfs: false,
  tmpfs: {},
  ulimits: { nofile: { soft: 1024, hard: 4096 }, nproc: { soft: 4096, hard: 4096 } },
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

Deno.test("containerCreateOptions() sets ulimits, tmpfs, a read-only root and the disk quota when on", () => {
  const spec = { ...SPEC, readOnlyRootfs: true, tmpfs: { "/tmp": 64 * 1024 * 1024 } };
  const host = containerCreateOptions(spec, true).HostConfig;
  assert.deepEqual(host?.Ulimits, [
    { Name: "nofile", Soft: 1024, Hard: 4096 },
    { Name: "nproc", Soft: 4096, Hard: 4096 },
    { Name: "fsize", Soft: 1024 ** 3, Hard: 1024 ** 3 },
  ], "without a quota, no file may outgrow the disk limit");
  assert.equal(host?.ReadonlyRootfs, true);
  assert.deepEqual(host?.Tmpfs, { "/tmp": "size=67108864,mode=1777" });
  assert.equal(host?.StorageOpt, undefined, "no quota unless the engine has one");
  const quota = containerCreateOptions(spec, true, { diskQuota: true }).HostConfig;
  assert.deepEqual(quota?.StorageOpt, { size: String(1024 ** 3) });
  assert.equal(quota?.Ulimits?.length, 2, "with a quota, no fsize");
  const none = containerCreateOptions({ ...spec, disk: 0 }, true, { diskQuota: true }).HostConfig;
  assert.equal(none?.StorageOpt, undefined, "disk 0 is no limit");
});
