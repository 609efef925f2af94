/**
 * What capsule reads from a zod schema's structure: where an option's input
 * and output schemas are, the mapping at a path (for did-you-mean), the kind
 * of an option and how an environment variable's text becomes its input.
 *
 * @module
 */
import type { z } from "zod";

/** Any zod schema. */
export type _ZodNode = z.core.$ZodType;

type Def = z.core.$ZodTypes["_zod"]["def"];

function defOf(node: _ZodNode): Def {
  return (node as z.core.$ZodTypes)._zod.def;
}

/**
 * The schema that sees an option's input as written: past optional and
 * default wrappers, and the input end of a pipe (`.transform()` makes one).
 */
export function _inputSide(node: _ZodNode): _ZodNode {
  for (;;) {
    const def = defOf(node);
    if (def.type === "pipe") {
      node = defOf(def.in).type === "transform" ? def.out : def.in;
    } else if (isWrapper(def)) node = def.innerType;
    else return node;
  }
}

/**
 * The schema that made an option's parsed value: past optional and default
 * wrappers, and the output end of a pipe. A pipe that ends in a transform
 * gives the transform, whose value has no structure to look into.
 */
export function _outputSide(node: _ZodNode): _ZodNode {
  for (;;) {
    const def = defOf(node);
    if (def.type === "pipe") node = def.out;
    else if (isWrapper(def)) node = def.innerType;
    else return node;
  }
}

function isWrapper(
  def: Def,
): def is Extract<Def, { type: "optional" | "default" | "prefault" | "nullable" | "readonly" }> {
  return ["optional", "default", "prefault", "nullable", "readonly"].includes(def.type);
}

/** The options of a union, or `[node]` for any other schema. */
function alternatives(node: _ZodNode): readonly _ZodNode[] {
  const def = defOf(node);
  return def.type === "union" ? def.options : [node];
}

/**
 * The schemas that may see the input at `path` under `root`, past wrappers
 * (every option of a union that has the path).
 */
export function _nodesAt(root: _ZodNode, path: readonly PropertyKey[]): _ZodNode[] {
  let nodes = [_inputSide(root)];
  for (const segment of path) {
    nodes = nodes.flatMap(alternatives).flatMap((node) => {
      const def = defOf(node);
      if (def.type === "object") {
        return Object.hasOwn(def.shape, segment) ? [_inputSide(def.shape[String(segment)]!)] : [];
      }
      if (def.type === "record") return [_inputSide(def.valueType)];
      if (def.type === "array") return [_inputSide(def.element)];
      return [];
    });
  }
  return nodes.flatMap(alternatives);
}

/**
 * The known keys of the mapping at `path` in the input that `root` validates
 * (the first mapping among a union's options), or `[]` when there is none.
 */
export function _keysAt(root: _ZodNode, path: readonly PropertyKey[]): string[] {
  for (const node of _nodesAt(root, path)) {
    const def = defOf(node);
    if (def.type === "object") return Object.keys(def.shape);
  }
  return [];
}

/** How an option nests: `object` and `record` hold options, `list` and `leaf` are values. */
export type _Kind = "leaf" | "list" | "record" | "object";

/** The kind of the option `node` validates, judged by its input. */
export function _kindOf(node: _ZodNode): _Kind {
  const type = defOf(_inputSide(node)).type;
  if (type === "object" || type === "record") return type;
  return type === "array" ? "list" : "leaf";
}

const identity = (text: string): unknown => text;

/** Environment text as a number when it looks like one, else as is (so the message quotes it). */
function numberFromText(text: string): unknown {
  return /^\s*-?(\d+(\.\d*)?|\.\d+)\s*$/.test(text) ? Number(text) : text;
}

const WORDS: Readonly<Record<string, boolean>> = {
  true: true,
  false: false,
  1: true,
  0: false,
  yes: true,
  no: false,
};

function booleanFromText(text: string): unknown {
  return WORDS[text.trim().toLowerCase()] ?? text;
}

/**
 * How an environment variable's text becomes the input of the option `node`
 * validates, or `undefined` when text cannot say it: mappings, and lists of
 * anything that may be a mapping (such as mounts). A list is comma-separated.
 * A union takes text for its scalar options (a size is `"512m"` or bytes).
 */
export function _fromText(
  node: _ZodNode,
  { scalarOnly = false } = {},
): ((text: string) => unknown) | undefined {
  const def = defOf(_inputSide(node));
  switch (def.type) {
    case "string":
    case "enum":
    case "literal":
      return identity;
    case "number":
      return numberFromText;
    case "boolean":
      return booleanFromText;
    case "union": {
      const parts = def.options.map((option) => _fromText(option, { scalarOnly }));
      if (parts.includes(undefined) && (scalarOnly || parts.every((p) => p === undefined))) {
        return undefined;
      }
      return parts.includes(numberFromText) ? numberFromText : identity;
    }
    case "array": {
      const item = _fromText(def.element, { scalarOnly: true });
      if (item === undefined) return undefined;
      return (text) =>
        text.split(",").map((part) => part.trim()).filter((part) => part !== "").map(item);
    }
    default:
      return undefined;
  }
}
