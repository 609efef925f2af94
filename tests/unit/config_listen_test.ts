import assert from "node:assert/strict";
import { isLoopbackHost, parseListen } from "../../src/config/mod.ts";

Deno.test("parseListen() splits host and port, IPv6 in brackets", async (t) => {
  const cases: [string, { host: string; port: number }][] = [
    ["127.0.0.1:2222", { host: "127.0.0.1", port: 2222 }],
    ["0.0.0.0:0", { host: "0.0.0.0", port: 0 }],
    ["localhost:65535", { host: "localhost", port: 65535 }],
    ["[::1]:2222", { host: "::1", port: 2222 }],
    ["[::]:22", { host: "::", port: 22 }],
  ];
  for (const [listen, expected] of cases) {
    await t.step(listen, () => assert.deepEqual(parseListen(listen), expected));
  }
});

Deno.test("parseListen() refuses what is not host:port", async (t) => {
  for (
    const listen of ["localhost", ":2222", "::1:2222", "[::1]", "host:port", "a b:1", "host:-1", ""]
  ) {
    await t.step(JSON.stringify(listen), () => {
      assert.throws(() => parseListen(listen), {
        name: "TypeError",
        message: /^Cannot parse listen address/,
      });
    });
  }
  assert.throws(() => parseListen("127.0.0.1:65536"), {
    name: "RangeError",
    message: /port 65536 is above 65535/,
  });
});

Deno.test("isLoopbackHost() knows loopback names and addresses", async (t) => {
  const cases: [string, boolean][] = [
    ["127.0.0.1", true],
    ["127.1.2.3", true],
    ["localhost", true],
    ["LOCALHOST", true],
    ["::1", true],
    ["[::1]", true],
    ["0:0:0:0:0:0:0:1", true],
    ["::ffff:127.0.0.1", true],
    ["0.0.0.0", false],
    ["::", false],
    ["10.0.0.1", false],
    ["128.0.0.1", false],
    ["127.0.0.256", false],
    ["::2", false],
    ["example.com", false],
    ["localhost.example.com", false],
    ["", false],
  ];
  for (const [host, loopback] of cases) {
    await t.step(JSON.stringify(host), () => assert.equal(isLoopbackHost(host), loopback));
  }
});
