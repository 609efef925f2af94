import type { ConfigPath } from "./config_path.ts";

/** One problem with the configuration, placed where the operator can fix it. */
export interface ConfigIssue {
  /** `file.yaml:14:3`, `environment CAPSULE_LOG_LEVEL`, `flag --listen`; absent when there is no place. */
  location?: string;
  /** The option concerned; empty when the problem is not about one option. */
  path: ConfigPath;
  /** What is wrong, e.g. `"container.memory" must be a size like "256m": got "lots"`. */
  message: string;
}

/**
 * The configuration cannot be used. The message has one line per issue,
 * `<location>: <message>`, ready to print to the operator.
 */
export class ConfigError extends Error {
  /** Every problem found, in the order found. */
  readonly issues: readonly ConfigIssue[];

  /** @param issues at least one problem */
  constructor(issues: readonly ConfigIssue[]) {
    super(
      issues.map((i) => i.location === undefined ? i.message : `${i.location}: ${i.message}`).join(
        "\n",
      ),
    );
    this.name = "ConfigError";
    this.issues = issues;
  }
}
