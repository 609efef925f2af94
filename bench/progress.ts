/** Progress lines on stderr, stamped with the time since the bench started. */
const STARTED = performance.now();

/** Prints one progress line. */
export function progress(message: string): void {
  const seconds = ((performance.now() - STARTED) / 1000).toFixed(1).padStart(6);
  console.error(`[bench ${seconds}s] ${message}`);
}
