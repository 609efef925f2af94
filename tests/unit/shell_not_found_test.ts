import assert from "node:assert/strict";
import { CapsuleError, shellNotFound, userMessageOf } from "../../src/errors/mod.ts";

Deno.test("shellNotFound() names the shell and the image, exits 127 and keeps the cause", () => {
  const cause = new Error("exec /bin/zsh failed: No such file or directory");
  const error = shellNotFound("/bin/zsh", "busybox", { cause });
  assert.ok(error instanceof CapsuleError);
  assert.equal(error.code, "SHELL_NOT_FOUND");
  assert.equal(error.exitCode, 127);
  assert.equal(error.cause, cause);
  assert.equal(
    userMessageOf(error, "s1"),
    'Cannot start session: shell "/bin/zsh" not found in image "busybox"',
  );
});

Deno.test("shellNotFound() without a cause has none", () => {
  assert.equal(shellNotFound("/bin/sh", "alpine").cause, undefined);
});
