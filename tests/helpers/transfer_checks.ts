/**
 * The file-transfer checks every container mode and image must pass, driven
 * by real clients: OpenSSH's sftp, scp (SFTP and legacy protocol) and rsync,
 * paramiko, asyncssh, curl, lftp and PuTTY's psftp.
 */
import assert from "node:assert/strict";
import {
  curl,
  describe,
  lftp,
  psftp,
  pythonRoundtrip,
  remote,
  rsync,
  type Run,
  scp,
  sftpBatch,
  sftpUrl,
} from "./file_clients.ts";
import { makeTree, ODD_NAME, openDir, randomFile, sha256, treeDigest } from "./file_tree.ts";
import { type Login, ssh } from "./ssh_client.ts";

/** Where the user's container has {@linkcode TransferContext.exchange} mounted. */
export const EXCHANGE_TARGET = "/xfer";

/** What {@linkcode checkFileTransfers} needs to know of the user and the host. */
export interface TransferContext {
  login: Login;
  /**
   * A host directory mounted read-write at {@linkcode EXCHANGE_TARGET} in the
   * user's containers: what a client puts there is checked on the host, and
   * what the host puts there is fetched, even when every session has a
   * container of its own. Prepare it with {@linkcode prepareExchange}.
   */
  exchange: string;
  /** An empty host directory for the clients' local files. */
  work: string;
  /** The server's host key fingerprints (`SHA256:...`), for psftp. */
  hostKeys: string[];
}

/** The first 1 MiB of the 4 MiB file that the resume check transfers, as an interrupted run leaves it. */
const PARTIAL = 1024 * 1024;
const FULL = 4 * PARTIAL;

/**
 * Makes `exchange` world-writable (the container user may not be root) with a
 * tree in `plant/` (see {@linkcode makeTree}) for the clients to download.
 */
export async function prepareExchange(exchange: string): Promise<void> {
  await openDir(exchange);
  await makeTree(`${exchange}/plant`);
}

function ok(run: Run, what: string): void {
  assert.equal(run.timedOut, false, `${what} hung:\n${describe(run)}`);
  assert.equal(run.code, 0, `${what} failed:\n${describe(run)}`);
}

/** The bytes rsync `--stats` says it sent as literal data (not matched from the other side). */
function literalBytes(run: Run): number {
  const match = run.stdout.match(/Literal data: ([\d,.]+) bytes/);
  assert.ok(match, `no "Literal data" in rsync --stats:\n${run.stdout}`);
  return Number(match[1]!.replace(/[,.]/g, ""));
}

/**
 * Checks, as `t`'s steps, that the user of `ctx.login` can move files with
 * every client both ways, with bytes (SHA-256) and names intact.
 */
export async function checkFileTransfers(t: Deno.TestContext, ctx: TransferContext): Promise<void> {
  const { login, exchange, work } = ctx;
  const x = (path: string) => `${EXCHANGE_TARGET}/${path}`;
  const data = `${work}/data.bin`;
  await randomFile(data, PARTIAL + 12345);
  const dataSum = await sha256(data);
  const tree = `${work}/tree`;
  await makeTree(tree);
  const treeSum = await treeDigest(tree);
  const plantSum = await treeDigest(`${exchange}/plant`);

  await t.step("sftp -b: put, get, ls, mkdir, rename, chmod, symlink, df, rm, rmdir", async () => {
    const result = await sftpBatch(login, [
      "mkdir /tmp/sftp-b",
      "cd /tmp/sftp-b",
      `put ${data} data.bin`,
      "ls -l",
      "rename data.bin moved.bin",
      "chmod 600 moved.bin",
      "symlink moved.bin link",
      "ls -l",
      `get link ${work}/via-link.bin`,
      `get moved.bin ${work}/back.bin`,
      "df -h .",
      "rm link",
      "rm moved.bin",
      "cd /",
      "rmdir /tmp/sftp-b",
      "-ls -l /tmp/sftp-b",
    ], { dir: work });
    ok(result, "sftp -b");
    assert.equal(await sha256(`${work}/back.bin`), dataSum, "get returned other bytes");
    assert.equal(await sha256(`${work}/via-link.bin`), dataSum, "get through the symlink");
    assert.match(
      result.stdout,
      new RegExp(`^-\\S+\\s.*\\s${PARTIAL + 12345}\\s.*data\\.bin$`, "m"),
    );
    assert.match(result.stdout, /^-rw-------\s.*moved\.bin$/m, "chmod 600 not shown by ls -l");
    assert.match(result.stdout, /^l\S+\s.*\slink$/m, "the symlink is not listed as one");
    assert.match(result.stdout, /Size\s+Used\s+Avail/, "df printed no sizes");
    assert.match(result.stderr, /not found/, "the removed directory is still there");
  });

  for (const legacy of [false, true]) {
    const name = legacy ? "scp-legacy" : "scp-sftp";
    await t.step(
      `scp${
        legacy ? " -O (scp protocol)" : " (SFTP protocol)"
      }: a tree up and down with -r, names intact`,
      async () => {
        const up = await scp(login, ["-r", tree, remote(login, x(name))], { legacy });
        ok(up, "scp -r upload");
        assert.deepEqual(await treeDigest(`${exchange}/${name}`), treeSum);
        assert.ok(await Deno.stat(`${exchange}/${name}/${ODD_NAME}`), "odd name not intact");

        const down = await scp(login, ["-r", remote(login, x("plant")), `${work}/${name}`], {
          legacy,
        });
        ok(down, "scp -r download");
        assert.deepEqual(await treeDigest(`${work}/${name}`), plantSum);

        const file = await scp(login, [remote(login, "/etc/passwd"), `${work}/${name}.passwd`], {
          legacy,
        });
        ok(file, "scp download of a file of the image");
        const shown = await ssh(login, "cat /etc/passwd");
        assert.equal(shown.code, 0, shown.stderr);
        assert.equal(await Deno.readTextFile(`${work}/${name}.passwd`), shown.stdout);
      },
    );
  }

  await t.step("rsync -e ssh: a tree up and down, then --delete", async () => {
    const up = await rsync(login, ["-rt", `${tree}/`, remote(login, x("rsync/"))]);
    ok(up, "rsync upload");
    assert.deepEqual(await treeDigest(`${exchange}/rsync`), treeSum);

    const down = await rsync(login, ["-rt", remote(login, x("plant/")), `${work}/rsync-down/`]);
    ok(down, "rsync download");
    assert.deepEqual(await treeDigest(`${work}/rsync-down`), plantSum);

    await Deno.remove(`${tree}/a.txt`);
    await Deno.writeTextFile(`${tree}/new.txt`, "new\n");
    try {
      const sync = await rsync(login, ["-rt", "--delete", `${tree}/`, remote(login, x("rsync/"))]);
      ok(sync, "rsync --delete");
      const after = await treeDigest(`${exchange}/rsync`);
      assert.equal(after["a.txt"], undefined, "--delete left a.txt");
      assert.deepEqual(after, await treeDigest(tree));
    } finally {
      await Deno.remove(`${tree}/new.txt`);
      await Deno.writeTextFile(`${tree}/a.txt`, "alpha\n");
    }
  });

  await t.step("rsync --partial --append-verify resumes a truncated file both ways", async () => {
    await Deno.mkdir(`${work}/resume/part`, { recursive: true });
    const full = `${work}/resume/big.bin`;
    await randomFile(full, FULL);
    const fullSum = await sha256(full);
    const part = `${work}/resume/part/big.bin`;
    await Deno.writeFile(part, (await Deno.readFile(full)).subarray(0, PARTIAL));
    const resume = ["-t", "--partial", "--append-verify", "--stats"];

    // As an interrupted upload leaves it: the first part already there.
    ok(await rsync(login, ["-t", part, remote(login, x("big.bin"))]), "rsync of the first part");
    const up = await rsync(login, [...resume, full, remote(login, x("big.bin"))]);
    ok(up, "resumed upload");
    assert.equal(await sha256(`${exchange}/big.bin`), fullSum);
    assert.ok(literalBytes(up) < FULL, `the upload started over:\n${up.stdout}`);

    const down = await rsync(login, [...resume, remote(login, x("big.bin")), part]);
    ok(down, "resumed download");
    assert.equal(await sha256(part), fullSum);
    assert.ok(literalBytes(down) < FULL, `the download started over:\n${down.stdout}`);
  });

  for (const library of ["paramiko", "asyncssh"] as const) {
    await t.step(`${library} SFTP: mkdir, put, stat, rename, listdir, get, rm, rmdir`, async () => {
      const local = `${work}/${library}.bin`;
      await Deno.copyFile(data, local);
      const { run, result } = await pythonRoundtrip(library, login, local, `/tmp/${library}-rt`);
      ok(run, `sftp_roundtrip.py ${library}`);
      assert.deepEqual(
        result?.listing,
        library === "paramiko" ? ["link", "moved.bin"] : ["moved.bin"],
      );
      assert.equal(result?.size, PARTIAL + 12345);
      if (library === "paramiko") assert.equal(result?.readlink, "moved.bin");
      assert.equal(result?.removed, true);
      assert.equal(await sha256(`${local}.back`), dataSum);
    });
  }

  await t.step("curl sftp:// uploads (-T) and downloads", async () => {
    const up = await curl(login, ["-T", data, sftpUrl(login, x("curl.bin"))], { home: work });
    ok(up, "curl -T");
    assert.equal(await sha256(`${exchange}/curl.bin`), dataSum);
    const down = await curl(login, [
      "-o",
      `${work}/curl-b.bin`,
      sftpUrl(login, x("plant/sub/b.bin")),
    ], {
      home: work,
    });
    ok(down, "curl download");
    assert.equal(await sha256(`${work}/curl-b.bin`), plantSum["sub/b.bin"]);
  });

  await t.step("lftp put and get over sftp://", async () => {
    const result = await lftp(login, [
      `put ${data} -o ${x("lftp.bin")}`,
      `get ${x("lftp.bin")} -o ${work}/lftp-back.bin`,
    ], { home: work });
    ok(result, "lftp");
    assert.equal(await sha256(`${exchange}/lftp.bin`), dataSum);
    assert.equal(await sha256(`${work}/lftp-back.bin`), dataSum);
  });

  await t.step("PuTTY's psftp -b put and get, with the host key pinned", async () => {
    assert.ok(ctx.hostKeys.length > 0, "no host key fingerprint");
    const result = await psftp(login, [
      `put ${data} /tmp/psftp.bin`,
      `get /tmp/psftp.bin ${work}/psftp-back.bin`,
      "quit",
    ], { home: work, hostKeys: ctx.hostKeys });
    ok(result, "psftp");
    assert.equal(await sha256(`${work}/psftp-back.bin`), dataSum);
  });
}
