import assert from "node:assert/strict";
import {
  isNameTaken,
  isNotRunning,
  isStoppingRace,
  resized,
} from "../../src/runtime/_engine_errors.ts";

/** An error as dockerode makes them from the engine's answer. */
function answer(statusCode: number, message: string): Error {
  return Object.assign(new Error(`(HTTP code ${statusCode}) ${message}`), {
    statusCode,
    json: { message },
  });
}

Deno.test("isNameTaken() knows Docker's 409 and Podman's 500 for a taken name", () => {
  assert.ok(isNameTaken(answer(409, 'Conflict. The container name "/x" is already in use')));
  assert.ok(isNameTaken(answer(500, 'the container name "x" is already in use by 44db')));
  assert.ok(!isNameTaken(answer(500, "no space left on device")));
  assert.ok(!isNameTaken(new Error("is already in use")));
});

Deno.test("isNotRunning() knows Docker's 404 and 409 and Podman's 500 for a dead container", () => {
  assert.ok(isNotRunning(answer(404, "No such container: x")));
  assert.ok(isNotRunning(answer(409, "Container x is not running")));
  assert.ok(isNotRunning(answer(500, "can only create exec sessions: container state improper")));
  assert.ok(!isNotRunning(answer(500, "OCI runtime exec failed")));
});

Deno.test("resized() takes Podman's 201 as success and passes other errors on", async () => {
  await resized(Promise.reject(answer(201, "unexpected")));
  await resized(Promise.resolve());
  await assert.rejects(resized(Promise.reject(answer(404, "no such exec"))), /404/);
});

Deno.test("isStoppingRace() knows Podman's 500 for a removal while the container stops", () => {
  assert.ok(isStoppingRace(answer(
    500,
    "cannot remove container 4d3a as it could not be stopped: sending SIGKILL to container 4d3a: container state improper: stopped ",
  )));
  assert.ok(!isStoppingRace(answer(500, "container state improper")));
  assert.ok(!isStoppingRace(answer(409, "removal of container x is already in progress")));
  assert.ok(!isStoppingRace(new Error("could not be stopped: container state improper")));
});
