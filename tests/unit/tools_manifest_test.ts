import assert from "node:assert/strict";
import { TOOL_NAMES, toolPath, TOOLS_MOUNT, toolsVolumeName } from "../../src/tools/mod.ts";

Deno.test("toolPath() places each tool under /.capsule/bin", () => {
  assert.equal(TOOLS_MOUNT, "/.capsule");
  assert.equal(toolPath("sftp-server"), "/.capsule/bin/sftp-server");
  assert.equal(toolPath("socat"), "/.capsule/bin/socat");
});

Deno.test("TOOL_NAMES lists exactly the tools scripts/build-tools.sh builds", async () => {
  const script = await Deno.readTextFile(new URL("../../scripts/build-tools.sh", import.meta.url));
  const built = script.match(/^TOOLS=\(([^)]*)\)$/m)?.[1]?.trim().split(/\s+/);
  assert.deepEqual(built, [...TOOL_NAMES]);
});

Deno.test("toolsVolumeName() names the volume after the build's hash", () => {
  assert.equal(toolsVolumeName("0123456789ab"), "capsule-tools-0123456789ab");
});
