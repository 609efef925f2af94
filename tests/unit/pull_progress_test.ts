import assert from "node:assert/strict";
import { pullError, PullStreamError } from "../../src/runtime/_pull_image.ts";
import type { PullProgress } from "../../src/runtime/mod.ts";
import { reportPullProgress } from "../../src/session/mod.ts";
import { fakeSessionContext } from "../helpers/fake_session_context.ts";

const IMAGE = "registry.example/php:8-cli";

function capture(pty: boolean) {
  const written: string[] = [];
  const ctx = fakeSessionContext({
    ...(pty ? { pty: { cols: 80, rows: 24, term: "xterm" } } : {}),
    write: (stream, data) => {
      assert.equal(stream, "stderr");
      written.push(new TextDecoder().decode(data));
      return Promise.resolve();
    },
  });
  return { report: reportPullProgress(ctx), written };
}

const at = (state: PullProgress["state"], current: number, total: number): PullProgress => ({
  image: IMAGE,
  state,
  current,
  total,
});

Deno.test("reportPullProgress() redraws one line on a TTY and ends it when the pull is done", () => {
  const { report, written } = capture(true);
  report(at("pulling", 0, 0)); // no layer known yet: nothing
  report(at("pulling", 12e6, 480e6));
  report(at("pulling", 120e6, 480e6)); // within 250 ms of the last: skipped
  report(at("done", 480e6, 480e6));
  assert.deepEqual(written, [
    `\rcapsule: pulling ${IMAGE}  12/480 MB\x1b[K`,
    `\rcapsule: pulled ${IMAGE}  480 MB\x1b[K\r\n`,
  ]);
});

Deno.test("reportPullProgress() writes a few plain lines without a TTY", () => {
  const { report, written } = capture(false);
  report(at("pulling", 1.5e6, 30e6));
  for (let i = 0; i < 50; i++) report(at("pulling", 2e6 + i, 30e6));
  report(at("done", 30e6, 30e6));
  assert.deepEqual(written, [
    `capsule: pulling ${IMAGE}  1.5/30 MB\n`,
    `capsule: pulled ${IMAGE}  30 MB\n`,
  ]);
});

Deno.test("reportPullProgress() ends the line of a failed pull and says nothing for no pull", () => {
  const tty = capture(true);
  tty.report(at("pulling", 0, 0));
  tty.report(at("failed", 0, 0));
  assert.deepEqual(tty.written, [], "refused before any layer: the error line alone");
  tty.report(at("pulling", 1e6, 2e6));
  tty.report(at("failed", 1e6, 2e6));
  assert.equal(tty.written.at(-1), `\rcapsule: pulling ${IMAGE}  1.0/2.0 MB\x1b[K\r\n`);
  const none = capture(false);
  none.report(at("done", 0, 0));
  assert.deepEqual(none.written, []);
});

Deno.test("pullError() tells the user apart denied, unreachable and missing, in one line each", async (t) => {
  const engine = (message: string) => Object.assign(new Error(message), { statusCode: 500 });
  const cases: [string, string, string, RegExp][] = [
    [
      "wrong password",
      "unauthorized: authentication required",
      "IMAGE_PULL_DENIED",
      /image ".*": registry "registry.example" refused access \(wrong or missing credentials\)$/,
    ],
    [
      "no credentials",
      'Head "http://registry.example/v2/php/manifests/8-cli": no basic auth credentials',
      "IMAGE_PULL_DENIED",
      /refused access/,
    ],
    [
      "registry down",
      'Get "http://registry.example/v2/": dial tcp 127.0.0.1:5000: connect: connection refused',
      "REGISTRY_UNREACHABLE",
      /image ".*": registry "registry.example" cannot be reached$/,
    ],
    [
      "missing tag",
      "manifest for registry.example/php:8-cli not found: manifest unknown: manifest unknown",
      "IMAGE_NOT_FOUND",
      /image ".*" not found in registry "registry.example"$/,
    ],
    ["other", "no space left on device", "IMAGE_PULL_FAILED", /could not be pulled/],
  ];
  for (const [name, message, code, line] of cases) {
    await t.step(name, () => {
      const error = pullError(IMAGE, engine(message));
      assert.equal(error.code, code);
      assert.match(error.userMessage, line);
      assert.ok(!error.userMessage.includes("\n"));
      assert.match(String((error.cause as Error).message), new RegExp(message.slice(0, 12)));
    });
  }
  await t.step("registry down, told in the pull stream without a status (Podman)", () => {
    const error = pullError(
      IMAGE,
      new PullStreamError(
        'pinging container registry 127.0.0.1:9: Get "https://127.0.0.1:9/v2/": dial tcp 127.0.0.1:9: connect: connection refused',
      ),
    );
    assert.equal(error.code, "REGISTRY_UNREACHABLE");
  });
  await t.step("the engine itself gone", () => {
    const error = pullError(IMAGE, Object.assign(new Error("connect ENOENT"), { code: "ENOENT" }));
    assert.equal(error.code, "ENGINE_UNREACHABLE");
  });
});
