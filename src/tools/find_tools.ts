import { CapsuleError } from "../errors/mod.ts";
import { DEFAULT_TOOLS_CACHE, TOOL_NAMES, type ToolName } from "./tools_manifest.ts";

/** One built tool on the host. */
export interface ToolFile {
  name: ToolName;
  /** Absolute path of the executable on the host. */
  path: string;
  /** Hex SHA-256 of the executable. */
  sha256: string;
}

/** A complete build of capsule's tools on the host. */
export interface ToolSet {
  /** The build's directory (symbolic links resolved), holding `bin/`. */
  dir: string;
  /** A short content hash over every executable; names the tools volume. */
  hash: string;
  /** Every tool, in the order of `TOOL_NAMES`. */
  files: ToolFile[];
}

/** Options of {@linkcode findTools}. */
export interface FindToolsOptions {
  /** The environment to read `CAPSULE_TOOLS_DIR` and `CAPSULE_TOOLS_CACHE` from; the process's by default. */
  env?: Record<string, string | undefined>;
  /**
   * Where a compiled capsule carries its own build (`deno compile --include
   * dist/tools`, as the release workflow does for Linux), tried when neither
   * variable names a build and the cache has none. Default: `dist/tools` of
   * the program, which exists only inside such a binary (or after a local
   * `deno task compile` with tools).
   */
  embedded?: string;
}

/** `dist/tools` beside `main.ts`: inside a compiled binary, its embedded files. */
const EMBEDDED_TOOLS = new URL("../../dist/tools", import.meta.url);

/** Hex digits of the ToolSet hash: 48 bits, plenty to tell builds apart. */
const HASH_LENGTH = 12;

/**
 * Locates the built tools: `CAPSULE_TOOLS_DIR` when set, else the `current`
 * build in `CAPSULE_TOOLS_CACHE` (default `/var/cache/capsule/tools`), else
 * the build a compiled capsule embeds, and checks that every tool is there.
 *
 * @returns the tools, or `undefined` when no build is in the cache (none was
 *   made on this machine)
 * @throws {CapsuleError} `TOOLS_INCOMPLETE` when `CAPSULE_TOOLS_DIR` names a
 *   missing directory, or a tool is missing or not executable
 * @example
 * ```ts
 * const tools = await findTools();
 * if (tools) console.log(`volume capsule-tools-${tools.hash} from ${tools.dir}`);
 * ```
 */
export async function findTools(options: FindToolsOptions = {}): Promise<ToolSet | undefined> {
  const env = options.env ?? Deno.env.toObject();
  const explicit = nonEmpty(env.CAPSULE_TOOLS_DIR);
  const wanted = explicit ?? `${nonEmpty(env.CAPSULE_TOOLS_CACHE) ?? DEFAULT_TOOLS_CACHE}/current`;
  let dir: string;
  let embedded = false;
  try {
    dir = await Deno.realPath(wanted);
  } catch (error) {
    if (!(error instanceof Deno.errors.NotFound)) throw error;
    if (explicit !== undefined) {
      throw incomplete(`CAPSULE_TOOLS_DIR "${explicit}" does not exist`, error);
    }
    const inside = options.embedded ?? EMBEDDED_TOOLS.pathname;
    if (!(await isDirectory(`${inside}/bin`))) return undefined;
    dir = inside;
    embedded = true;
  }
  const files: ToolFile[] = [];
  for (const name of TOOL_NAMES) {
    const path = `${dir}/bin/${name}`;
    // A compiled binary's embedded files may not keep their modes; the tools
    // volume gets its own.
    files.push({ name, path, sha256: await sha256OfExecutable(path, !embedded) });
  }
  const summary = files.map((file) => `${file.name} ${file.sha256}\n`).join("");
  const hash = (await sha256Hex(new TextEncoder().encode(summary))).slice(0, HASH_LENGTH);
  return { dir, hash, files };
}

function nonEmpty(value: string | undefined): string | undefined {
  return value === undefined || value === "" ? undefined : value;
}

function incomplete(detail: string, cause?: unknown): CapsuleError {
  return new CapsuleError(
    "TOOLS_INCOMPLETE",
    "Cannot use capsule's tools: the build is incomplete",
    { cause: new Error(`${detail}; rebuild them with scripts/build-tools.sh`, { cause }) },
  );
}

async function isDirectory(path: string): Promise<boolean> {
  try {
    return (await Deno.stat(path)).isDirectory;
  } catch {
    return false;
  }
}

async function sha256OfExecutable(path: string, mustBeExecutable = true): Promise<string> {
  let info: Deno.FileInfo;
  try {
    info = await Deno.stat(path);
  } catch (error) {
    if (error instanceof Deno.errors.NotFound) throw incomplete(`tool "${path}" is missing`, error);
    throw error;
  }
  if (!info.isFile || (mustBeExecutable && ((info.mode ?? 0o755) & 0o111) === 0)) {
    throw incomplete(`tool "${path}" is not an executable file`);
  }
  return await sha256Hex(await Deno.readFile(path));
}

async function sha256Hex(data: Uint8Array<ArrayBuffer>): Promise<string> {
  const digest = new Uint8Array(await crypto.subtle.digest("SHA-256", data));
  return Array.from(digest, (byte) => byte.toString(16).padStart(2, "0")).join("");
}
