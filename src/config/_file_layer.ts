import { dirname, resolve } from "node:path";
import { isAlias, isMap, isScalar, isSeq, LineCounter, type Node, parseDocument } from "yaml";
import { ConfigError } from "./config_error.ts";
import type { Layer } from "./_layer.ts";
import { type ConfigPath, describeValue } from "./config_path.ts";

type Document = ReturnType<typeof parseDocument>;

/**
 * Reads and parses a YAML config file into a layer whose `locate` points at
 * `file:line:column` of an option's node.
 *
 * @param file the path as the operator gave it (used in messages)
 * @param cwd the directory a relative `file` is read from
 * @throws {ConfigError} when the file cannot be read, is not valid YAML, or is
 *   not a mapping at the top level
 */
export async function _fileLayer(file: string, cwd: string): Promise<Layer> {
  const absolute = resolve(cwd, file);
  let text: string;
  try {
    text = await Deno.readTextFile(absolute);
  } catch (error) {
    throw new ConfigError([{
      path: [],
      message: `Cannot read config file "${file}": ${reason(error)}`,
    }]);
  }
  const lineCounter = new LineCounter();
  const doc = parseDocument(text, { lineCounter, prettyErrors: false });
  const at = (offset: number) => {
    const { line, col } = lineCounter.linePos(offset);
    return `${file}:${line}:${col}`;
  };
  if (doc.errors.length > 0) {
    throw new ConfigError(doc.errors.map((error) => ({
      location: at(error.pos[0]),
      path: [],
      message: error.message.replace(/ at line \d+, column \d+:?[\s\S]*$/, ""),
    })));
  }
  let raw: unknown;
  try {
    raw = doc.toJS({ maxAliasCount: 100 });
  } catch (error) {
    throw new ConfigError([{
      location: file,
      path: [],
      message: `Cannot read YAML: ${reason(error)}`,
    }]);
  }
  if (raw === null || raw === undefined) raw = {};
  if (typeof raw !== "object" || Array.isArray(raw)) {
    throw new ConfigError([{
      location: at(doc.contents?.range?.[0] ?? 0),
      path: [],
      message: `expected a mapping of options at the top level: got ${describeValue(raw)}`,
    }]);
  }
  return {
    raw: raw as Record<string, unknown>,
    baseDir: dirname(absolute),
    locate: (path, atKey) => {
      const offset = offsetOf(doc, path, atKey);
      return { where: at(offset), order: offset };
    },
  };
}

/** Start offset of the node at `path` (or its key), else of its nearest ancestor present. */
function offsetOf(doc: Document, path: ConfigPath, atKey: boolean): number {
  let node: unknown = doc.contents;
  let offset = rangeStart(node) ?? 0;
  for (const [index, segment] of path.entries()) {
    if (isAlias(node)) node = node.resolve(doc);
    if (isMap(node)) {
      const pair = node.items.find((p) =>
        isScalar(p.key) && String(p.key.value) === String(segment)
      );
      if (pair === undefined) break;
      if (atKey && index === path.length - 1) return rangeStart(pair.key) ?? offset;
      node = pair.value;
      offset = rangeStart(node) ?? rangeStart(pair.key) ?? offset;
    } else if (isSeq(node) && typeof segment === "number") {
      node = node.items[segment];
      offset = rangeStart(node) ?? offset;
    } else break;
  }
  return offset;
}

function rangeStart(node: unknown): number | undefined {
  return (node as Node | null | undefined)?.range?.[0] ?? undefined;
}

function reason(error: unknown): string {
  if (error instanceof Deno.errors.NotFound) return "No such file";
  if (error instanceof Deno.errors.PermissionDenied) return "Permission denied";
  if (error instanceof Deno.errors.IsADirectory) return "Is a directory";
  if (error instanceof Error) return error.message;
  return String(error);
}
