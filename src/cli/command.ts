import type { CliContext } from "./cli_deps.ts";

/** A subcommand of `capsule`. */
export interface Command {
  /** What the user types, e.g. `keygen`. */
  readonly name: string;
  /** One line for the list of commands. */
  readonly summary: string;
  /** The full `--help` text, ending with a newline. */
  help(): string;
  /**
   * Runs the command with the arguments after its name.
   *
   * @returns the exit code: 0 success, 1 failure
   * @throws {UsageError} when the arguments are wrong (exit code 2)
   */
  run(args: readonly string[], context: CliContext): Promise<number>;
}
