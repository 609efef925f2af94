import { isPlainObject } from "./object_schema.ts";
import type { ConfigPath } from "./config_path.ts";

/** One source of options: the defaults, the file, the environment or the flags. */
export interface Layer {
  /** The options this layer sets, nested like the config, not yet validated. */
  readonly raw: Record<string, unknown>;
  /** The directory that relative paths set in this layer are resolved against. */
  readonly baseDir: string;
  /**
   * Where an option of this layer was set: `where` for messages (e.g.
   * `config.yaml:3:5`), `order` to sort issues of this layer in reading order.
   */
  locate(path: ConfigPath, atKey: boolean): { where: string; order: number };
}

/**
 * Whether `raw` sets the value at `path`: it has every key on the way, or a
 * list or scalar part-way (lists and scalars replace, so it owns what is below).
 */
export function _sets(raw: unknown, path: ConfigPath): boolean {
  let node = raw;
  for (const segment of path) {
    if (!isPlainObject(node)) return true;
    if (!Object.hasOwn(node, String(segment))) return false;
    node = node[String(segment)];
  }
  return true;
}

/**
 * The layer a value at `path` comes from: the last (highest) layer that sets
 * it, else the one that sets its nearest parent (for a missing key), else
 * the lowest layer (the defaults).
 */
export function _ownerOf(layers: readonly [Layer, ...Layer[]], path: ConfigPath): Layer {
  for (let length = path.length; length > 0; length--) {
    const prefix = path.slice(0, length);
    for (let i = layers.length - 1; i >= 0; i--) {
      if (_sets(layers[i]!.raw, prefix)) return layers[i]!;
    }
  }
  return layers[0];
}

/** Sets `value` at `path` in `raw`, creating the objects on the way. */
export function _setIn(
  raw: Record<string, unknown>,
  path: readonly string[],
  value: unknown,
): void {
  let node = raw;
  for (const segment of path.slice(0, -1)) {
    const next = node[segment];
    if (isPlainObject(next)) node = next;
    else {
      const created: Record<string, unknown> = {};
      node[segment] = created;
      node = created;
    }
  }
  node[path[path.length - 1]!] = value;
}

/**
 * Merges `over` onto `base`: objects merge key by key, lists and scalars in
 * `over` replace. Neither argument is changed.
 */
export function _deepMerge(base: unknown, over: unknown): unknown {
  if (!isPlainObject(base) || !isPlainObject(over)) return over;
  const merged = new Map<string, unknown>(Object.entries(base));
  for (const [key, value] of Object.entries(over)) {
    merged.set(key, merged.has(key) ? _deepMerge(merged.get(key), value) : value);
  }
  // fromEntries defines own properties, so a "__proto__" key stays data.
  return Object.fromEntries(merged);
}
