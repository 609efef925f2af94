const ENV_NAME = /^[A-Za-z_][A-Za-z0-9_]*$/;
const MAX_ENV_VALUE = 4096;

/**
 * Decides which client `env` requests reach the container. Entries are exact
 * names or prefixes ending in `*` (`LC_*`). A name that is not a plain
 * identifier (e.g. contains `=`) never passes, whatever the list says.
 */
export class EnvAllowList {
  readonly #exact: Set<string>;
  readonly #prefixes: string[];

  /** @param patterns names, or prefixes ending in `*` */
  constructor(patterns: readonly string[]) {
    this.#exact = new Set(patterns.filter((p) => !p.endsWith("*")));
    this.#prefixes = patterns.filter((p) => p.endsWith("*")).map((p) => p.slice(0, -1));
  }

  /** Whether `name=value` may be passed to the container. */
  allows(name: string, value: string): boolean {
    if (!ENV_NAME.test(name)) return false;
    if (value.length > MAX_ENV_VALUE || value.includes("\0")) return false;
    return this.#exact.has(name) || this.#prefixes.some((p) => name.startsWith(p));
  }
}
