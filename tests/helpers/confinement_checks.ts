/**
 * Checks, as an attacker with an SFTP client, that a user's SFTP session sees
 * the files of their container and nothing of the host: `..`, symlinks the
 * client makes, symlinks planted by a shell or on the host side of a bind
 * mount all resolve inside the container.
 */
import assert from "node:assert/strict";
import { describe, type Run, sftpBatch } from "./file_clients.ts";
import { type Login, ssh } from "./ssh_client.ts";

/** What the confinement checks compare against. */
export interface HostView {
  /** A file that exists on the host and at no such path in any container. */
  marker: string;
  /** The host's /etc/passwd, whose lines the container's does not all have. */
  passwd: string;
  /** The host's name, which containers do not share. */
  hostname: string;
}

/** Writes the host marker under `dir` and reads what the host shows. */
export async function hostView(dir: string): Promise<HostView> {
  const marker = `${dir}/host-marker`;
  await Deno.writeTextFile(marker, "host only\n");
  return {
    marker,
    passwd: await Deno.readTextFile("/etc/passwd"),
    hostname: Deno.hostname(),
  };
}

/** The container's /etc/passwd as the user's shell shows it. */
export async function containerPasswd(login: Login): Promise<string> {
  const shown = await ssh(login, "cat /etc/passwd");
  assert.equal(shown.code, 0, `cat /etc/passwd: ${shown.stderr}`);
  assert.match(shown.stdout, /^root:x:0:0:/m);
  return shown.stdout;
}

/** Fails unless `fetched` is the container's passwd and has none of the host's own lines. */
export function assertContainerPasswd(
  fetched: string,
  container: string,
  host: HostView,
  what: string,
): void {
  assert.equal(fetched, container, `${what}: not the container's /etc/passwd`);
  const hostOnly = host.passwd.split("\n").filter((line) => line && !container.includes(line));
  for (const line of hostOnly) {
    assert.ok(!fetched.includes(line), `${what}: has the host's "${line}"`);
  }
}

/** Fails unless the sftp batch failed with a "not found" for `path`. */
export function assertNotFound(run: Run, path: string): void {
  assert.equal(run.timedOut, false, `sftp hung:\n${describe(run)}`);
  assert.notEqual(run.code, 0, `${path} was found:\n${describe(run)}`);
  assert.match(run.stderr, /not found|No such file/, describe(run));
}

/**
 * As `t`'s steps: the hostname is the container's, `..` stops at the
 * container's root, symlinks made over SFTP (to `/` and up with `..`) lead to
 * the container's files, and the host's marker is nowhere to be found.
 */
export async function checkConfinement(
  t: Deno.TestContext,
  options: { login: Login; work: string; host: HostView; hostname: string },
): Promise<void> {
  const { login, work, host } = options;
  const container = await containerPasswd(login);
  const batch = (commands: string[]) => sftpBatch(login, commands, { dir: work });

  await t.step("get /etc/hostname returns the container's name", async () => {
    const run = await batch([`get /etc/hostname ${work}/hostname`]);
    assert.equal(run.code, 0, describe(run));
    const name = (await Deno.readTextFile(`${work}/hostname`)).trim();
    assert.equal(name, options.hostname);
    assert.notEqual(name, host.hostname);
  });

  await t.step("../ and /../ paths stop at the container's root", async () => {
    const run = await batch([
      `get ../../../../../../../etc/passwd ${work}/passwd-up`,
      `get /../../../etc/passwd ${work}/passwd-root-up`,
      "cd ../../../../..",
      "pwd",
    ]);
    assert.equal(run.code, 0, describe(run));
    assertContainerPasswd(
      await Deno.readTextFile(`${work}/passwd-up`),
      container,
      host,
      "../ path",
    );
    assertContainerPasswd(
      await Deno.readTextFile(`${work}/passwd-root-up`),
      container,
      host,
      "/../ path",
    );
    assert.match(run.stdout, /^Remote working directory: \/$/m);
  });

  await t.step("symlinks made over SFTP to / and up with .. resolve in the container", async () => {
    const run = await batch([
      "symlink / /tmp/root-link",
      "symlink ../../../../../../etc /tmp/up-link",
      `get /tmp/root-link/etc/passwd ${work}/passwd-root-link`,
      `get /tmp/up-link/passwd ${work}/passwd-up-link`,
    ]);
    assert.equal(run.code, 0, describe(run));
    for (const file of ["passwd-root-link", "passwd-up-link"]) {
      assertContainerPasswd(await Deno.readTextFile(`${work}/${file}`), container, host, file);
    }
  });

  await t.step("a file of the host is not found, directly or through a symlink to /", async () => {
    assertNotFound(await batch([`get ${host.marker} ${work}/marker`]), host.marker);
    const through = `get /tmp/root-link-2${host.marker} ${work}/marker`;
    const run = await batch([
      "symlink / /tmp/root-link-2",
      // The link works: this get must pass for the batch to reach the next one.
      `get /tmp/root-link-2/etc/hostname ${work}/hostname-2`,
      through,
    ]);
    assert.ok(
      run.stdout.includes(`sftp> ${through}`),
      `the batch stopped early:\n${describe(run)}`,
    );
    assertNotFound(run, host.marker);
  });
}
