/** Polling for end-to-end tests: wait until something the engine or server reports holds. */
import assert from "node:assert/strict";

/**
 * Calls `read` until `done` holds for its value, every 100 ms, failing with
 * the last value after `timeoutMs`; returns the value that passed.
 */
export async function pollUntil<T>(
  read: () => Promise<T>,
  done: (value: T) => boolean,
  timeoutMs = 30_000,
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let value = await read();
  while (!done(value) && Date.now() < deadline) {
    await new Promise((r) => setTimeout(r, 100));
    value = await read();
  }
  assert.ok(done(value), `condition not reached; last value: ${JSON.stringify(value)}`);
  return value;
}
