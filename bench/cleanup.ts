/** A stack of clean-up steps that runs in reverse order, each step guarded. */

/** Clean-up steps registered as resources are made; {@linkcode Cleanup.run} undoes them all. */
export class Cleanup {
  readonly #steps: { name: string; fn: () => Promise<void> }[] = [];
  #running: Promise<string[]> | undefined;

  /** Registers a step; the last registered runs first. */
  add(name: string, fn: () => Promise<void>): void {
    this.#steps.push({ name, fn });
  }

  /**
   * Runs every step once, newest first, even when some fail.
   *
   * @returns one line per failed step
   */
  run(): Promise<string[]> {
    this.#running ??= this.#runAll();
    return this.#running;
  }

  async #runAll(): Promise<string[]> {
    const failures: string[] = [];
    for (const step of this.#steps.reverse()) {
      try {
        await step.fn();
      } catch (error) {
        failures.push(`${step.name}: ${error instanceof Error ? error.message : String(error)}`);
      }
    }
    return failures;
  }
}
