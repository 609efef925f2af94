/**
 * A real OpenSSH server (Debian's `sshd`) for end-to-end tests: a private
 * config on a loopback port, local Unix users made for the test, and the
 * files sshd insists on (root-owned command paths, owned home directories).
 * Everything here needs root, as sshd does.
 */
import { freePort } from "./background.ts";
import { pollUntil } from "./poll.ts";

/** Runs a program to completion; fails with its output unless it exits 0. */
export async function run(program: string, args: string[]): Promise<string> {
  const out = await new Deno.Command(program, { args, stdout: "piped", stderr: "piped" }).output();
  const dec = new TextDecoder();
  if (out.code !== 0) {
    throw new Error(`${program} ${args.join(" ")} failed: ${dec.decode(out.stderr)}`);
  }
  return dec.decode(out.stdout);
}

/** A Unix account made for a test, removed with its home by {@linkcode removeUnixUser}. */
export async function addUnixUser(name: string): Promise<{ home: string; uid: number }> {
  await run("useradd", ["--create-home", "--shell", "/bin/sh", name]);
  // "*": no password, but not locked (sshd without PAM refuses locked accounts).
  await run("usermod", ["-p", "*", name]);
  const uid = Number((await run("id", ["-u", name])).trim());
  return { home: `/home/${name}`, uid };
}

/** Removes a test's Unix account and its home; a missing one is fine. */
export async function removeUnixUser(name: string): Promise<void> {
  await new Deno.Command("userdel", { args: ["--remove", "--force", name], stderr: "null" })
    .output();
}

/** Makes an ed25519 key pair at `path` (and `path.pub`); returns the public key line. */
export async function makeKey(path: string): Promise<string> {
  await run("ssh-keygen", ["-q", "-t", "ed25519", "-N", "", "-C", "", "-f", path]);
  return (await Deno.readTextFile(`${path}.pub`)).trim();
}

/** A running sshd. */
export interface OpenSshServer {
  port: number;
  /** What sshd wrote on stderr so far (`-e`), for failure messages. */
  log(): string;
  stop(): Promise<void>;
}

/**
 * Starts `sshd -D -e` with `lines` after a private base config (its own
 * host key in `dir`, loopback only, public keys only, no PAM).
 */
export async function startSshd(dir: string, lines: string): Promise<OpenSshServer> {
  await Deno.mkdir("/run/sshd", { recursive: true });
  const hostKey = `${dir}/ssh_host_ed25519_key`;
  await run("ssh-keygen", ["-q", "-t", "ed25519", "-N", "", "-f", hostKey]);
  const port = freePort();
  const config = `${dir}/sshd_config`;
  await Deno.writeTextFile(
    config,
    [
      `Port ${port}`,
      "ListenAddress 127.0.0.1",
      `HostKey ${hostKey}`,
      "PidFile none",
      "UsePAM no",
      "PasswordAuthentication no",
      "KbdInteractiveAuthentication no",
      "PubkeyAuthentication yes",
      "AuthorizedKeysFile .ssh/authorized_keys",
      "Subsystem sftp /usr/lib/openssh/sftp-server",
      "LogLevel VERBOSE",
      lines,
    ].join("\n") + "\n",
  );
  await run("/usr/sbin/sshd", ["-t", "-f", config]);
  const child = new Deno.Command("/usr/sbin/sshd", {
    args: ["-D", "-e", "-f", config],
    stdin: "null",
    stdout: "null",
    stderr: "piped",
  }).spawn();
  let log = "";
  const reading = child.stderr.pipeThrough(new TextDecoderStream()).pipeTo(
    new WritableStream({ write: (text) => void (log += text) }),
  ).catch(() => {});
  const stop = async () => {
    try {
      child.kill("SIGTERM");
    } catch {
      // Already gone.
    }
    await child.status;
    await reading;
  };
  try {
    await pollUntil(
      () => Promise.resolve(log.includes(`Server listening on 127.0.0.1 port ${port}`)),
      (up) => up,
      15_000,
    );
  } catch (error) {
    await stop();
    throw new Error(`sshd did not start: ${log}`, { cause: error });
  }
  return { port, log: () => log, stop };
}
