/** The bench's temporary directory: a client key pair and the random blob for throughput. */
import { createHash } from "node:crypto";
import { runProcess } from "./process.ts";

/** Files the bench made in its temporary directory. */
export interface Workspace {
  dir: string;
  /** ed25519 private key file of the bench's clients. */
  keyFile: string;
  /** Its public key, one authorized_keys line. */
  publicKey: string;
  /** Its private key text (for ssh2). */
  privateKey: string;
  /** authorized_keys file holding `publicKey` (for sshd). */
  authorizedKeysFile: string;
  /** The random file streamed in the throughput figures. */
  blob: string;
  blobBytes: number;
  blobSha256: string;
}

/** Writes `bytes` random bytes to `path`, returning their SHA-256. */
export async function writeRandomFile(path: string, bytes: number): Promise<string> {
  const hash = createHash("sha256");
  const file = await Deno.open(path, { write: true, create: true, truncate: true });
  try {
    const chunk = new Uint8Array(1 << 20);
    // getRandomValues fills at most 64 KiB per call.
    const step = 1 << 16;
    for (let written = 0; written < bytes; written += chunk.length) {
      const size = Math.min(chunk.length, bytes - written);
      const part = chunk.subarray(0, size);
      for (let offset = 0; offset < size; offset += step) {
        crypto.getRandomValues(part.subarray(offset, Math.min(offset + step, size)));
      }
      hash.update(part);
      let done = 0;
      while (done < size) done += await file.write(part.subarray(done));
    }
  } finally {
    file.close();
  }
  return hash.digest("hex");
}

/** Size and SHA-256 of a file, read in chunks; `undefined` when it does not exist. */
export async function hashFile(
  path: string,
): Promise<{ bytes: number; sha256: string } | undefined> {
  let file: Deno.FsFile;
  try {
    file = await Deno.open(path, { read: true });
  } catch (error) {
    if (error instanceof Deno.errors.NotFound) return undefined;
    throw error;
  }
  const hash = createHash("sha256");
  let bytes = 0;
  for await (const chunk of file.readable) {
    hash.update(chunk);
    bytes += chunk.byteLength;
  }
  return { bytes, sha256: hash.digest("hex") };
}

/** Makes the temporary directory with a fresh key pair and a random blob of `blobBytes`. */
export async function createWorkspace(blobBytes: number): Promise<Workspace> {
  const dir = await Deno.makeTempDir({ prefix: "capsule-bench-" });
  // World-readable: the blob is bind-mounted into containers.
  await Deno.chmod(dir, 0o755);
  const keyFile = `${dir}/id_ed25519`;
  const keygen = await runProcess("ssh-keygen", [
    "-q",
    "-t",
    "ed25519",
    "-N",
    "",
    "-C",
    "capsule-bench",
    "-f",
    keyFile,
  ]);
  if (keygen.code !== 0) throw new Error(`ssh-keygen failed: ${keygen.stderr.trim()}`);
  const publicKey = (await Deno.readTextFile(`${keyFile}.pub`)).trim();
  const authorizedKeysFile = `${dir}/authorized_keys`;
  await Deno.writeTextFile(authorizedKeysFile, `${publicKey}\n`);
  const blob = `${dir}/blob`;
  const blobSha256 = await writeRandomFile(blob, blobBytes);
  await Deno.chmod(blob, 0o644);
  return {
    dir,
    keyFile,
    publicKey,
    privateKey: await Deno.readTextFile(keyFile),
    authorizedKeysFile,
    blob,
    blobBytes,
    blobSha256,
  };
}
