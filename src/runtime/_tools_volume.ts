// @ts-types="@types/dockerode"
import type Docker from "dockerode";
// @ts-types="@types/tar-stream"
import tarStream from "tar-stream";
import { Buffer } from "node:buffer";
import { TOOLS_MOUNT, type ToolSet, toolsVolumeName } from "../tools/mod.ts";
import { engineErrorOf } from "./_engine_errors.ts";

/** Written last: a volume without it was filled only in part. */
const COMPLETE_MARKER = ".complete";

/**
 * Makes sure the engine has a volume holding this build of capsule's tools,
 * `capsule-tools-<hash>`, and returns its name. The volume is filled once
 * per engine through the API (a created, never started, container of
 * `image` with the volume mounted takes a tar of the tools), so it works
 * with a remote engine too; a later start finds it complete and is done.
 */
export async function ensureToolsVolume(
  docker: Docker,
  tools: ToolSet,
  image: string,
): Promise<string> {
  const name = toolsVolumeName(tools.hash);
  // Creating a named volume that exists gives the existing one back.
  await docker.createVolume({
    Name: name,
    Labels: { "io.capsule.tools": tools.hash },
  });
  const helper = await docker.createContainer({
    Image: image,
    Cmd: ["true"],
    NetworkDisabled: true,
    HostConfig: {
      Mounts: [{ Type: "volume", Source: name, Target: TOOLS_MOUNT }],
      NetworkMode: "none",
      LogConfig: { Type: "none", Config: {} },
    },
  });
  try {
    if (await hasMarker(helper)) return name;
    await helper.putArchive(await packTools(tools), { path: TOOLS_MOUNT });
    return name;
  } finally {
    await helper.remove({ force: true }).catch(() => {});
  }
}

async function hasMarker(helper: Docker.Container): Promise<boolean> {
  try {
    const stream = await helper.getArchive({ path: `${TOOLS_MOUNT}/${COMPLETE_MARKER}` });
    (stream as NodeJS.ReadableStream & { resume(): void }).resume();
    return true;
  } catch (error) {
    if (engineErrorOf(error).statusCode === 404) return false;
    throw error;
  }
}

/** A tar of `bin/<tool>` (0755), the licence texts, and the completion marker last. */
async function packTools(tools: ToolSet): Promise<Buffer> {
  const pack = tarStream.pack();
  const chunks: Buffer[] = [];
  pack.on("data", (chunk: Buffer) => chunks.push(chunk));
  const done = new Promise<void>((resolve, reject) => {
    pack.on("end", () => resolve());
    pack.on("error", reject);
  });
  const add = (name: string, data: Uint8Array, mode: number) =>
    new Promise<void>((resolve, reject) => {
      pack.entry({ name, mode, mtime: new Date(0) }, Buffer.from(data), (error) => {
        if (error) reject(error);
        else resolve();
      });
    });
  for (const file of tools.files) {
    await add(`bin/${file.name}`, await Deno.readFile(file.path), 0o755);
  }
  try {
    for await (const entry of Deno.readDir(`${tools.dir}/LICENSES`)) {
      if (!entry.isFile) continue;
      await add(
        `LICENSES/${entry.name}`,
        await Deno.readFile(`${tools.dir}/LICENSES/${entry.name}`),
        0o644,
      );
    }
  } catch (error) {
    if (!(error instanceof Deno.errors.NotFound)) throw error;
  }
  await add(COMPLETE_MARKER, new TextEncoder().encode(`${tools.hash}\n`), 0o644);
  pack.finalize();
  await done;
  return Buffer.concat(chunks);
}
