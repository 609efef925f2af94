/** Files and trees on the host for transfer tests: random content, SHA-256, a digest of a tree. */
import assert from "node:assert/strict";

/** The SHA-256 of a file in hex, streamed by `sha256sum` (files may be far larger than memory allows). */
export async function sha256(path: string): Promise<string> {
  const out = await new Deno.Command("sha256sum", {
    args: ["--", path],
    stdout: "piped",
    stderr: "piped",
  })
    .output();
  assert.equal(out.code, 0, `sha256sum ${path}: ${new TextDecoder().decode(out.stderr)}`);
  return new TextDecoder().decode(out.stdout).split(" ")[0]!;
}

/** Writes `bytes` random bytes to `path` (`head -c N /dev/urandom`, so sizes like 1 GiB are fine). */
export async function randomFile(path: string, bytes: number): Promise<void> {
  const file = await Deno.open(path, { write: true, create: true, truncate: true });
  const out = await new Deno.Command("head", {
    args: ["-c", String(bytes), "/dev/urandom"],
    stdout: "piped",
    stderr: "piped",
  }).spawn();
  await out.stdout.pipeTo(file.writable);
  const status = await out.status;
  assert.equal(status.code, 0, `head -c ${bytes} /dev/urandom failed`);
}

/**
 * What a tree holds, path by path relative to `root` (sorted): `dir`, the
 * SHA-256 of a file, or `-> target` for a symlink. Two trees with equal
 * digests hold the same names and bytes.
 */
export async function treeDigest(root: string): Promise<Record<string, string>> {
  const digest: Record<string, string> = {};
  const walk = async (relative: string): Promise<void> => {
    const entries = [];
    for await (const entry of Deno.readDir(`${root}/${relative}`)) entries.push(entry);
    for (const entry of entries.sort((a, b) => a.name < b.name ? -1 : 1)) {
      const path = relative ? `${relative}/${entry.name}` : entry.name;
      if (entry.isSymlink) digest[path] = `-> ${await Deno.readLink(`${root}/${path}`)}`;
      else if (entry.isDirectory) {
        digest[path] = "dir";
        await walk(path);
      } else digest[path] = await sha256(`${root}/${path}`);
    }
  };
  await walk("");
  return digest;
}

/** A name no shell, option parser or quoting layer may bend: a leading dash, quotes, spaces. */
export const ODD_NAME = `-odd 'name" x.txt`;

/**
 * Makes a small tree under `root`: `a.txt`, `sub/b.bin` (64 KiB random),
 * `sub/deeper/c.txt`, an empty `empty/` directory and a file named
 * {@linkcode ODD_NAME}.
 */
export async function makeTree(root: string): Promise<void> {
  await Deno.mkdir(`${root}/sub/deeper`, { recursive: true });
  await Deno.mkdir(`${root}/empty`, { recursive: true });
  await Deno.writeTextFile(`${root}/a.txt`, "alpha\n");
  await randomFile(`${root}/sub/b.bin`, 64 * 1024);
  await Deno.writeTextFile(`${root}/sub/deeper/c.txt`, "gamma\n");
  await Deno.writeTextFile(`${root}/${ODD_NAME}`, "odd\n");
}

/** Makes `path` and its parents, world-writable (for a container user that is not root). */
export async function openDir(path: string): Promise<void> {
  await Deno.mkdir(path, { recursive: true });
  await Deno.chmod(path, 0o777);
}
