import assert from "node:assert/strict";
import { defaultConfig } from "../../src/config/mod.ts";

const PACKAGING = new URL("../../packaging/", import.meta.url).pathname;
const UNITS = ["capsule.service", "capsule.socket", "capsule@.service"];

/** `key=value` lines of a unit's section, later ones first-come as systemd lists them. */
async function section(unit: string, name: string): Promise<Map<string, string[]>> {
  const text = await Deno.readTextFile(`${PACKAGING}${unit}`);
  const found = new Map<string, string[]>();
  let current = "";
  for (const line of text.split("\n")) {
    const header = /^\[(.+)\]$/.exec(line.trim());
    if (header) current = header[1]!;
    const pair = /^([A-Za-z]+)=(.*)$/.exec(line);
    if (pair && current === name) found.set(pair[1]!, [...found.get(pair[1]!) ?? [], pair[2]!]);
  }
  return found;
}

Deno.test("the systemd units pass systemd-analyze verify", async () => {
  // The units name the installed binary; verify wants an executable there.
  const dir = await Deno.makeTempDir();
  try {
    await Deno.writeTextFile(`${dir}/capsule`, "#!/bin/sh\n", { mode: 0o755 });
    for (const unit of UNITS) {
      const text = await Deno.readTextFile(`${PACKAGING}${unit}`);
      if (unit.endsWith(".service")) assert.match(text, /\/usr\/local\/bin\/capsule /);
      await Deno.writeTextFile(
        `${dir}/${unit}`,
        text.replaceAll("/usr/local/bin/capsule ", `${dir}/capsule `),
      );
    }
    const out = await new Deno.Command("systemd-analyze", {
      args: ["verify", ...UNITS],
      cwd: dir,
      env: { SYSTEMD_LOG_COLOR: "0" },
    }).output();
    const said = new TextDecoder().decode(out.stderr) + new TextDecoder().decode(out.stdout);
    // Unknown keys and bad values are only warnings: any output fails the test.
    assert.equal(said, "");
    assert.equal(out.code, 0);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("capsule.service: docker group with its warning, reload by SIGHUP, a stop timeout past the drain", async () => {
  const text = await Deno.readTextFile(`${PACKAGING}capsule.service`);
  assert.match(text, /WARNING: membership in the "docker" group is root-equivalent/);
  for (const unit of ["capsule.service", "capsule@.service"]) {
    const service = await section(unit, "Service");
    assert.deepEqual(service.get("User"), ["capsule"], unit);
    assert.deepEqual(service.get("SupplementaryGroups"), ["docker"], unit);
    assert.deepEqual(service.get("StateDirectory"), ["capsule"], unit);
    assert.deepEqual(service.get("ExecReload"), ["/bin/kill -HUP $MAINPID"], unit);
    assert.deepEqual(service.get("NoNewPrivileges"), ["yes"], unit);
    assert.deepEqual(service.get("ProtectSystem"), ["strict"], unit);
    const stopSeconds = Number(service.get("TimeoutStopSec")?.[0]);
    // The drain, then up to 20 s of container removal, then the final sweep.
    assert.ok(stopSeconds > defaultConfig().server.drainTimeout + 20, `${unit}: ${stopSeconds}`);
  }
});

Deno.test("capsule.socket accepts each connection into capsule@.service's serve --stdio", async () => {
  const socket = await section("capsule.socket", "Socket");
  assert.deepEqual(socket.get("Accept"), ["yes"]);
  const service = await section("capsule@.service", "Service");
  assert.match(service.get("ExecStart")?.[0] ?? "", / serve --stdio /);
  assert.deepEqual(service.get("StandardInput"), ["socket"]);
  assert.deepEqual(service.get("StandardOutput"), ["socket"]);
  assert.deepEqual(service.get("StandardError"), ["journal"]);
});
