/**
 * Adversarial end to end, configuration: settings that would hand the host
 * to a session (privileged containers, the host's namespaces, the engine's
 * socket) stop the real server before it listens, unless an `unsafe` flag
 * names them.
 */
import assert from "node:assert/strict";
import { stringify } from "yaml";
import { deepMerge, startCapsule } from "../helpers/capsule_process.ts";
import { assertNoContainersLeft, requireEngine } from "../helpers/docker.ts";

const MAIN = new URL("../../main.ts", import.meta.url).pathname;
const SOCKET = "/var/run/docker.sock";

/**
 * Runs `capsule serve` with `config` (over a loopback listener and a
 * temporary state directory) and expects it to exit before listening.
 */
async function refusedStart(
  config: Record<string, unknown>,
  env: Record<string, string> = {},
): Promise<{ code: number; output: string }> {
  const dir = await Deno.makeTempDir({ prefix: "capsule-adv-config-" });
  try {
    const full = deepMerge({
      server: { listen: "127.0.0.1:0", stateDir: `${dir}/state`, instance: "adv-config" },
      log: { level: "debug", format: "json" },
    }, config);
    await Deno.writeTextFile(`${dir}/config.yaml`, stringify(full));
    const child = new Deno.Command(Deno.execPath(), {
      args: ["run", "-A", MAIN, "serve", "--config", `${dir}/config.yaml`],
      env: { NO_COLOR: "1", ...env },
      stdin: "null",
      stdout: "piped",
      stderr: "piped",
    }).spawn();
    // A server that starts anyway would never exit: stop it, and fail below.
    const timer = setTimeout(() => child.kill("SIGKILL"), 30_000);
    try {
      const out = await child.output();
      const dec = new TextDecoder();
      const output = dec.decode(out.stdout) + dec.decode(out.stderr);
      assert.doesNotMatch(output, /server\.listening/, `the server listened:\n${output}`);
      return { code: out.code, output };
    } finally {
      clearTimeout(timer);
    }
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
}

/** The first line a TCP client gets from the server. */
async function banner(port: number): Promise<string> {
  const conn = await Deno.connect({ hostname: "127.0.0.1", port });
  try {
    let text = "";
    const buf = new Uint8Array(256);
    while (!text.includes("\n")) {
      const n = await conn.read(buf);
      if (n === null) break;
      text += new TextDecoder().decode(buf.subarray(0, n));
    }
    return text;
  } finally {
    conn.close();
  }
}

Deno.test("adversarial end to end: unsafe container settings", async (t) => {
  await requireEngine();

  const refusals: [string, Record<string, unknown>, RegExp, Record<string, string>?][] = [
    ["privileged", { container: { privileged: true } }, /container\.privileged/],
    ["network host", { container: { network: "host" } }, /container\.network/],
    [
      "engine socket (string form)",
      { container: { mounts: [`${SOCKET}:/var/run/docker.sock`] } },
      /container\.mounts/,
    ],
    [
      "engine socket (object form, elsewhere)",
      { container: { mounts: [{ source: "/run/docker.sock", target: "/tmp/x.sock" }] } },
      /container\.mounts/,
    ],
    [
      "privileged for one user",
      { users: { eve: { container: { privileged: true } } } },
      /users\.eve\.container\.privileged/,
    ],
    [
      "network host for one user",
      { users: { eve: { container: { network: "host" } } } },
      /users\.eve\.container\.network/,
    ],
    [
      "engine socket for one user",
      { users: { eve: { container: { mounts: [`${SOCKET}:/s.sock:ro`] } } } },
      /users\.eve\.container\.mounts/,
    ],
    [
      "privileged from the environment",
      {},
      /container\.privileged/,
      { CAPSULE_CONTAINER_PRIVILEGED: "true" },
    ],
    [
      "privileged with only another unsafe flag",
      { container: { privileged: true }, unsafe: { hostNamespaces: true, engineSocket: true } },
      /container\.privileged/,
    ],
  ];
  for (const [name, config, names, env] of refusals) {
    await t.step(`refused without its unsafe flag: ${name}`, async () => {
      const { code, output } = await refusedStart(config, env);
      assert.notEqual(code, 0, `exit status: ${output}`);
      assert.match(output, names, `the error names the option:\n${output}`);
      assert.match(output, /unsafe\.\w+/, `the error names the unsafe flag:\n${output}`);
    });
  }

  const accepted: [string, Record<string, unknown>][] = [
    ["privileged", { container: { privileged: true }, unsafe: { privileged: true } }],
    ["network host", { container: { network: "host" }, unsafe: { hostNamespaces: true } }],
    [
      "engine socket",
      { container: { mounts: [`${SOCKET}:/var/run/docker.sock`] }, unsafe: { engineSocket: true } },
    ],
  ];
  for (const [name, config] of accepted) {
    await t.step(`accepted with its unsafe flag: ${name}`, async () => {
      // Started, greeted and stopped: no session, so no such container ever runs.
      const capsule = await startCapsule({ config });
      try {
        assert.match(await banner(capsule.port), /^SSH-2\.0-/);
      } finally {
        assert.equal(await capsule.stop(), 0, "capsule exits 0 on SIGTERM");
      }
      await assertNoContainersLeft(15_000, capsule.instance);
    });
  }
});
