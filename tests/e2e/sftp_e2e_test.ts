/**
 * End to end: SFTP, scp and rsync through capsule with real clients (OpenSSH's
 * sftp, scp and rsync, paramiko, asyncssh, curl, lftp, PuTTY's psftp), in
 * session and persistent mode, in busybox (capsule's own static tools) and in
 * a Debian image (the image's own), as root and as a uid with no passwd
 * entry. An SFTP session sees its container's files and nothing of the host;
 * `container.sftp` turns SFTP off or read-only. The 1 GiB transfers are a
 * test of their own.
 */
import assert from "node:assert/strict";
import { eventually } from "../helpers/adversary.ts";
import {
  assertContainerPasswd,
  assertNotFound,
  checkConfinement,
  containerPasswd,
  hostView,
} from "../helpers/confinement_checks.ts";
import { DEMO_PASSWORD, demoPasswordHash, startDemoCapsule } from "../helpers/demo_capsule.ts";
import {
  assertNoContainersLeft,
  capsuleContainers,
  containerProcesses,
  requireEngine,
  requireImage,
} from "../helpers/docker.ts";
import { describe, sftpBatch } from "../helpers/file_clients.ts";
import { openDir, randomFile, sha256 } from "../helpers/file_tree.ts";
import { connectSsh2, type Login, openChannel, ssh } from "../helpers/ssh_client.ts";
import {
  checkFileTransfers,
  EXCHANGE_TARGET,
  prepareExchange,
} from "../helpers/transfer_checks.ts";

const DEBIAN = "capsule-test-debian:latest";

/** The users every client is run for: both modes, both kinds of image, root and a bare uid. */
const MATRIX: Record<string, Record<string, unknown>> = {
  demo: {},
  pers: { mode: "persistent", gracePeriod: 2 },
  uid: { user: "1234:1234" },
  deb: { image: DEBIAN, shell: "/bin/bash" },
  debpers: { image: DEBIAN, shell: "/bin/bash", mode: "persistent", gracePeriod: 2 },
};
const PERSISTENT = ["pers", "debpers"];

/**
 * Keeps a session of `login` open (`sleep`), so that a persistent container
 * outlives its grace period between the steps of a check.
 */
async function holdSession(login: Login): Promise<AsyncDisposable> {
  const client = await connectSsh2(login);
  const channel = await openChannel(client, { exec: "sleep 300" });
  return {
    [Symbol.asyncDispose]: () => {
      channel.close();
      client.end();
      return Promise.resolve();
    },
  };
}

/** The one container of a persistent user. */
async function containerOf(instance: string, user: string): Promise<string> {
  const ids = await capsuleContainers(instance, { "io.capsule.user": user });
  assert.equal(ids.length, 1, `${user} has ${ids.length} containers`);
  return ids[0]!;
}

Deno.test("end to end: SFTP, scp and rsync in every mode and image, confined to the container", async (t) => {
  await requireEngine();
  await requireImage(DEBIAN);
  const root = await Deno.makeTempDir({ prefix: "capsule-sftp-" });
  const passwordHash = await demoPasswordHash();
  const host = await hostView(root);

  const users: Record<string, unknown> = {};
  for (const [user, container] of Object.entries(MATRIX)) {
    await prepareExchange(`${root}/xfer/${user}`);
    const mounts = [{ source: `${root}/xfer/${user}`, target: EXCHANGE_TARGET }];
    users[user] = { passwordHash, container: { ...container, mounts } };
  }
  // Owned by root: uid 1234 may neither read the file nor list the directory.
  await Deno.writeTextFile(`${root}/xfer/uid/secret.txt`, "root only\n");
  await Deno.chmod(`${root}/xfer/uid/secret.txt`, 0o600);
  await Deno.mkdir(`${root}/xfer/uid/private`);
  await Deno.chmod(`${root}/xfer/uid/private`, 0o700);
  // mnt: a writable and a read-only bind mount, with symlinks planted on the host side.
  await openDir(`${root}/site`);
  await Deno.symlink("/etc", `${root}/site/etc-link`);
  await Deno.symlink(host.marker, `${root}/site/marker-link`);
  await Deno.mkdir(`${root}/ro`);
  await Deno.writeTextFile(`${root}/ro/readme.txt`, "read me\n");
  users.mnt = {
    passwordHash,
    container: {
      mounts: [
        { source: `${root}/site`, target: "/srv/site" },
        { source: `${root}/ro`, target: "/srv/ro", readOnly: true },
      ],
    },
  };
  users.ro = { passwordHash, container: { sftp: { readOnly: true } } };
  users.off = { passwordHash, container: { sftp: { enabled: false } } };

  const { capsule } = await startDemoCapsule({ config: { users } });
  const login = (user: string): Login => ({ port: capsule.port, user, password: DEMO_PASSWORD });
  const hostKeys = capsule.logs().filter((r) => r.event === "host_key.loaded").map((r) =>
    String(r.fingerprint)
  );
  const workOf = async (name: string) => {
    const dir = `${root}/work/${name}`;
    await Deno.mkdir(dir, { recursive: true });
    return dir;
  };

  try {
    for (const user of Object.keys(MATRIX)) {
      await t.step(`${user}: every client moves files both ways`, async (t) => {
        await checkFileTransfers(t, {
          login: login(user),
          exchange: `${root}/xfer/${user}`,
          work: await workOf(user),
          hostKeys,
        });
      });
      if (!PERSISTENT.includes(user)) {
        await t.step(`${user}: no container is left after its sessions`, async () => {
          await eventually(
            async () =>
              (await capsuleContainers(capsule.instance, { "io.capsule.user": user })).length === 0,
            () => `${user}'s containers are still there`,
          );
        });
      }
    }

    for (const user of PERSISTENT) {
      await t.step(
        `${user}: SFTP and the shell share the container; no sftp-server outlives its session`,
        async () => {
          const work = await workOf(`${user}-shared`);
          await using _held = await holdSession(login(user));
          const wrote = await ssh(login(user), "echo from the shell >/tmp/from-shell.txt");
          assert.equal(wrote.code, 0, wrote.stderr);
          await Deno.writeTextFile(`${work}/note.txt`, "from sftp\n");
          const run = await sftpBatch(login(user), [
            `put ${work}/note.txt /tmp/from-sftp.txt`,
            `get /tmp/from-shell.txt ${work}/from-shell.txt`,
          ], { dir: work });
          assert.equal(run.code, 0, describe(run));
          assert.equal(await Deno.readTextFile(`${work}/from-shell.txt`), "from the shell\n");
          const seen = await ssh(login(user), "cat /tmp/from-sftp.txt");
          assert.equal(seen.stdout, "from sftp\n", seen.stderr);

          const id = await containerOf(capsule.instance, user);
          let processes: string[] = [];
          await eventually(
            async () =>
              !(processes = await containerProcesses(id)).some((p) => p.includes("sftp-server")),
            () => `sftp-server still runs in ${user}'s container:\n${processes.join("\n")}`,
            5_000,
          );
        },
      );
    }

    for (const user of ["demo", "uid", "deb"]) {
      await t.step(`${user}: an SFTP session sees only its container`, async (t) => {
        await checkConfinement(t, {
          login: login(user),
          work: await workOf(`${user}-jail`),
          host,
          hostname: "capsule",
        });
      });
    }

    await t.step("pers: absolute symlinks a shell planted resolve in the container", async () => {
      const work = await workOf("pers-planted");
      await using _held = await holdSession(login("pers"));
      const planted = await ssh(
        login("pers"),
        `ln -s /etc /tmp/hostetc && ln -s ${root} /tmp/hostroot`,
      );
      assert.equal(planted.code, 0, planted.stderr);
      const run = await sftpBatch(login("pers"), [`get /tmp/hostetc/passwd ${work}/passwd`], {
        dir: work,
      });
      assert.equal(run.code, 0, describe(run));
      const passwd = await Deno.readTextFile(`${work}/passwd`);
      assertContainerPasswd(
        passwd,
        await containerPasswd(login("pers")),
        host,
        "/tmp/hostetc/passwd",
      );
      const marker = `/tmp/hostroot/${host.marker.slice(root.length + 1)}`;
      assertNotFound(
        await sftpBatch(login("pers"), [`get ${marker} ${work}/marker`], { dir: work }),
        marker,
      );
    });

    await t.step(
      "mnt: symlinks planted on the host side of a bind mount resolve in the container",
      async () => {
        const work = await workOf("mnt-links");
        const run = await sftpBatch(
          login("mnt"),
          [`get /srv/site/etc-link/passwd ${work}/passwd`],
          { dir: work },
        );
        assert.equal(run.code, 0, describe(run));
        const passwd = await Deno.readTextFile(`${work}/passwd`);
        assertContainerPasswd(passwd, await containerPasswd(login("mnt")), host, "etc-link/passwd");
        const marker = await sftpBatch(login("mnt"), [`get /srv/site/marker-link ${work}/marker`], {
          dir: work,
        });
        assertNotFound(marker, "/srv/site/marker-link");
      },
    );

    await t.step(
      "mnt: a writable bind mount takes writes, a read-only one refuses them",
      async () => {
        const work = await workOf("mnt-write");
        await randomFile(`${work}/data.bin`, 100_000);
        const run = await sftpBatch(login("mnt"), [
          `put ${work}/data.bin /srv/site/up.bin`,
          `get /srv/ro/readme.txt ${work}/readme.txt`,
          `-put ${work}/data.bin /srv/ro/up.bin`,
          "-mkdir /srv/ro/dir",
          "-rm /srv/ro/readme.txt",
        ], { dir: work });
        assert.equal(run.code, 0, describe(run));
        assert.equal(await sha256(`${root}/site/up.bin`), await sha256(`${work}/data.bin`));
        assert.equal(await Deno.readTextFile(`${work}/readme.txt`), "read me\n");
        // OpenSSH's sftp-server reports EROFS as a plain "Failure" (it maps only EACCES/EPERM to
        // "Permission denied").
        for (const what of [/"\/srv\/ro\/up\.bin"/, /"\/srv\/ro\/dir"/, /\/srv\/ro\/readme\.txt/]) {
          assert.match(
            run.stderr,
            new RegExp(`${what.source}: (Permission denied|Failure)$`, "m"),
            describe(run),
          );
        }
        assert.deepEqual([...Deno.readDirSync(`${root}/ro`)].map((e) => e.name), ["readme.txt"]);
      },
    );

    await t.step("uid: what uid 1234 may not read is refused, as to its shell", async () => {
      const work = await workOf("uid-denied");
      const run = await sftpBatch(login("uid"), [
        `ls -l ${EXCHANGE_TARGET}`,
        `-get ${EXCHANGE_TARGET}/secret.txt ${work}/secret.txt`,
        `-ls ${EXCHANGE_TARGET}/private`,
      ], { dir: work });
      assert.equal(run.code, 0, describe(run));
      assert.match(run.stdout, /secret\.txt$/m, "the file is not even listed");
      assert.match(run.stderr, /secret\.txt"?\)?: Permission denied$/m, describe(run));
      assert.match(run.stderr, /private\/?"?\)?: Permission denied$/m, describe(run));
      await assert.rejects(Deno.stat(`${work}/secret.txt`));
      const shell = await ssh(login("uid"), `cat ${EXCHANGE_TARGET}/secret.txt`);
      assert.notEqual(shell.code, 0);
      assert.match(shell.stderr, /Permission denied/);
    });

    await t.step("ro: with sftp.readOnly, writes are refused and reads work", async () => {
      const work = await workOf("ro");
      await Deno.writeTextFile(`${work}/x.txt`, "x\n");
      // Harmless even to a host that a broken server would expose: sftp-server -R refuses
      // these before it looks at the paths, which do not exist.
      const run = await sftpBatch(login("ro"), [
        `-put ${work}/x.txt /tmp/capsule-ro.txt`,
        "-mkdir /tmp/capsule-ro-dir",
        "-rename /tmp/capsule-no-such-file /tmp/capsule-ro-renamed",
        "-rm /tmp/capsule-no-such-file",
        "-symlink /tmp/capsule-no-such-file /tmp/capsule-ro-link",
        `get /etc/passwd ${work}/passwd`,
      ], { dir: work });
      assert.equal(run.code, 0, describe(run));
      assert.equal(run.stderr.match(/: Permission denied$/gm)?.length, 5, describe(run));
      assert.equal(await Deno.readTextFile(`${work}/passwd`), await containerPasswd(login("ro")));
      const put = await sftpBatch(login("ro"), [`put ${work}/x.txt /tmp/capsule-ro.txt`], {
        dir: work,
      });
      assert.notEqual(put.code, 0, "a plain put did not fail the batch");
    });

    await t.step(
      "off: with sftp.enabled false, the subsystem is refused at once and logged",
      async () => {
        const work = await workOf("off");
        const run = await sftpBatch(login("off"), ["ls /"], { dir: work, timeoutMs: 15_000 });
        assert.equal(run.timedOut, false, "sftp hung on a refused subsystem");
        assert.notEqual(run.code, 0);
        assert.ok(run.ms < 10_000, `refused after ${Math.round(run.ms)} ms`);
        assert.match(run.stderr, /subsystem request failed/);
        const refused = await capsule.waitForLog(
          (r) => r.event === "session.refused" && r.user === "off",
          5_000,
        );
        assert.equal(typeof refused.reason, "string");
        const shell = await ssh(login("off"), "echo shells still work");
        assert.equal(shell.stdout, "shells still work\n", shell.stderr);
      },
    );
  } finally {
    const code = await capsule.stop();
    await Deno.remove(root, { recursive: true });
    assert.equal(code, 0);
  }
  await assertNoContainersLeft(20_000, capsule.instance);
});

Deno.test("end to end: 1 GiB up and 1 GiB down through OpenSSH's sftp, checked by SHA-256", async (t) => {
  await requireEngine();
  const root = await Deno.makeTempDir({ prefix: "capsule-sftp-big-" });
  // A bind mount: the container's own filesystem is capped by container.disk (1g).
  await openDir(`${root}/big`);
  const { capsule, login } = await startDemoCapsule({
    config: {
      users: { demo: { container: { mounts: [{ source: `${root}/big`, target: "/big" }] } } },
    },
  });
  try {
    const up = `${root}/up.bin`;
    await randomFile(up, 2 ** 30);
    const sum = await sha256(up);
    await t.step("1 GiB up", async () => {
      const run = await sftpBatch(login, [`put ${up} /big/up.bin`], {
        dir: root,
        timeoutMs: 120_000,
      });
      assert.equal(run.timedOut, false, `the upload took over 120 s:\n${describe(run)}`);
      assert.equal(run.code, 0, describe(run));
      assert.equal(await sha256(`${root}/big/up.bin`), sum);
    });
    await Deno.remove(up);
    await t.step("1 GiB down", async () => {
      const down = `${root}/down.bin`;
      const run = await sftpBatch(login, [`get /big/up.bin ${down}`], {
        dir: root,
        timeoutMs: 120_000,
      });
      assert.equal(run.timedOut, false, `the download took over 120 s:\n${describe(run)}`);
      assert.equal(run.code, 0, describe(run));
      assert.equal(await sha256(down), sum);
    });
  } finally {
    const code = await capsule.stop();
    await Deno.remove(root, { recursive: true });
    assert.equal(code, 0);
  }
  await assertNoContainersLeft(20_000, capsule.instance);
});
