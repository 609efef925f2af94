/**
 * The command line is wrong (unknown command or flag, missing value): the CLI
 * prints the message with a pointer to `--help` and exits with status 2.
 */
export class UsageError extends Error {
  /** @param message one line, e.g. `unknown option "--foo"` */
  constructor(message: string) {
    super(message);
    this.name = "UsageError";
  }
}
