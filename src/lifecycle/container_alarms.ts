/**
 * Per-container alarms: a limit watcher raises one with the line the user
 * should read, and the placements, which hold each container's sessions,
 * end them with it (as a maximum lifetime does) and give the container back.
 */
export class ContainerAlarms {
  readonly #controllers = new Map<string, AbortController>();

  /** Aborted, with the reason for the user, once an alarm is raised for `containerId`. */
  signalFor(containerId: string): AbortSignal {
    return this.#controllerOf(containerId).signal;
  }

  /** Raises the alarm of `containerId` (once; later reasons are ignored). */
  raise(containerId: string, reason: string): void {
    const controller = this.#controllerOf(containerId);
    if (!controller.signal.aborted) controller.abort(reason);
  }

  /** Whether an alarm was raised for `containerId`. */
  raised(containerId: string): boolean {
    return this.#controllers.get(containerId)?.signal.aborted ?? false;
  }

  /** Drops what is kept of a removed container. */
  forget(containerId: string): void {
    this.#controllers.delete(containerId);
  }

  #controllerOf(containerId: string): AbortController {
    let controller = this.#controllers.get(containerId);
    if (!controller) {
      controller = new AbortController();
      this.#controllers.set(containerId, controller);
    }
    return controller;
  }
}
