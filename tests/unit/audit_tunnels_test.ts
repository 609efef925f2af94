import assert from "node:assert/strict";
import { type AuditFields, auditTunnels } from "../../src/audit/mod.ts";
import type { TunnelEnd, TunnelRequest } from "../../src/forward/mod.ts";
import { silentLogger } from "../../src/log/mod.ts";

const request: TunnelRequest = {
  connectionId: "c1",
  identity: { username: "alice", method: "password" },
  logger: silentLogger(),
  target: { kind: "tcp", host: "127.0.0.1", port: 8080 },
};

function recorder() {
  const events: [string, AuditFields][] = [];
  return { events, record: (event: string, fields: AuditFields) => events.push([event, fields]) };
}

Deno.test("auditTunnels() records a refusal with its reason", async () => {
  const audit = recorder();
  const open = auditTunnels(
    () => Promise.resolve({ refused: "local forwarding is off", prohibited: true }),
    audit,
  );
  const decision = await open(request);
  assert.ok("refused" in decision);
  assert.deepEqual(audit.events, [["forward.refused", {
    connection: "c1",
    user: "alice",
    kind: "local",
    host: "127.0.0.1",
    port: 8080,
    reason: "local forwarding is off",
    prohibited: true,
  }]]);
});

Deno.test("auditTunnels() records open and close with the bytes each way", async () => {
  const audit = recorder();
  const open = auditTunnels(() =>
    Promise.resolve({
      discard: () => Promise.resolve(),
      pipe: async (end: TunnelEnd) => {
        for await (const data of end.incoming) await end.write(data.subarray(0, 1));
        end.end();
      },
    }), audit);
  const decision = await open({ ...request, target: { kind: "unix", path: "/run/app.sock" } });
  assert.ok("pipe" in decision);
  const written: Uint8Array[] = [];
  await decision.pipe({
    closed: new AbortController().signal,
    end: () => {},
    write: (data) => {
      written.push(data);
      return Promise.resolve();
    },
    incoming: (async function* () {
      yield new Uint8Array(10);
      yield new Uint8Array(5);
    })(),
  });
  assert.equal(written.length, 2);
  assert.deepEqual(audit.events.map(([event]) => event), ["forward.open", "forward.close"]);
  const close = audit.events[1]?.[1];
  assert.equal(close?.socket, "/run/app.sock");
  assert.equal(close?.bytes_in, 15);
  assert.equal(close?.bytes_out, 2);
  assert.equal(typeof close?.duration_ms, "number");
});
