import assert from "node:assert/strict";
import { engineEndpoint } from "../../src/runtime/engine_endpoint.ts";
import { dockerOptions } from "../../src/runtime/docker_runtime.ts";

Deno.test("engineEndpoint() reads docker.host, DOCKER_HOST and TLS as the Docker CLI does", async (t) => {
  const cases: [string, Parameters<typeof engineEndpoint>[0], Record<string, string>, unknown][] = [
    ["nothing set: the local socket", { host: "" }, {}, {
      kind: "socket",
      path: "/var/run/docker.sock",
    }],
    ["DOCKER_HOST when docker.host is empty", { host: "" }, {
      DOCKER_HOST: "unix:///run/podman/podman.sock",
    }, { kind: "socket", path: "/run/podman/podman.sock" }],
    ["docker.host wins over DOCKER_HOST", { host: "tcp://10.0.0.5:2375" }, {
      DOCKER_HOST: "unix:///x.sock",
    }, { kind: "tcp", host: "10.0.0.5", port: 2375 }],
    ["tcp without a port and without TLS is 2375", { host: "tcp://engine" }, {}, {
      kind: "tcp",
      host: "engine",
      port: 2375,
    }],
    [
      "docker.tls: its files, and 2376 by default",
      {
        host: "tcp://engine",
        tls: { ca: "/c/ca.pem", cert: "/c/cert.pem", key: "/c/key.pem" },
      },
      {},
      {
        kind: "tcp",
        host: "engine",
        port: 2376,
        tls: { ca: "/c/ca.pem", cert: "/c/cert.pem", key: "/c/key.pem", from: "docker.tls" },
      },
    ],
    ["DOCKER_TLS_VERIFY (any value) with DOCKER_CERT_PATH", { host: "" }, {
      DOCKER_HOST: "tcp://127.0.0.1:23760",
      DOCKER_TLS_VERIFY: "0",
      DOCKER_CERT_PATH: "/certs",
    }, {
      kind: "tcp",
      host: "127.0.0.1",
      port: 23760,
      tls: {
        ca: "/certs/ca.pem",
        cert: "/certs/cert.pem",
        key: "/certs/key.pem",
        from: "DOCKER_CERT_PATH",
      },
    }],
    ["DOCKER_TLS_VERIFY without DOCKER_CERT_PATH: ~/.docker", { host: "tcp://[::1]" }, {
      DOCKER_TLS_VERIFY: "1",
      HOME: "/home/op",
    }, {
      kind: "tcp",
      host: "::1",
      port: 2376,
      tls: {
        ca: "/home/op/.docker/ca.pem",
        cert: "/home/op/.docker/cert.pem",
        key: "/home/op/.docker/key.pem",
        from: "DOCKER_CERT_PATH",
      },
    }],
    ["an empty DOCKER_TLS_VERIFY is off", { host: "tcp://engine:1" }, { DOCKER_TLS_VERIFY: "" }, {
      kind: "tcp",
      host: "engine",
      port: 1,
    }],
  ];
  for (const [name, settings, env, expected] of cases) {
    await t.step(name, () => assert.deepEqual(engineEndpoint(settings, env), expected));
  }
  await t.step("ssh:// and docker.tls with a socket are refused", () => {
    assert.throws(
      () => engineEndpoint({ host: "ssh://engine" }, {}),
      /Unsupported engine address "ssh:\/\/engine" \(docker.host\)/,
    );
    assert.throws(
      () => engineEndpoint({ host: "", tls: { ca: "a", cert: "b", key: "c" } }, {}),
      /"docker.tls" is set but the engine is a local socket/,
    );
  });
});

Deno.test("dockerOptions() leaves nothing for dockerode to take from DOCKER_HOST", () => {
  const socket = dockerOptions({ kind: "socket", path: "/x.sock" }) as Record<string, unknown>;
  // dockerode lays its options over the environment's: each key must be there.
  for (const key of ["host", "port", "ca", "cert", "key"]) {
    assert.ok(key in socket && socket[key] === undefined, key);
  }
  assert.equal(socket.socketPath, "/x.sock");
  assert.equal(socket.protocol, "http");
  const tls = dockerOptions(
    { kind: "tcp", host: "h", port: 1, tls: { ca: "a", cert: "b", key: "c", from: "docker.tls" } },
    { ca: "CA", cert: "CERT", key: "KEY" },
  ) as Record<string, unknown>;
  assert.deepEqual(
    [tls.protocol, tls.host, tls.port, tls.ca, tls.cert, tls.key, tls.socketPath],
    ["https", "h", 1, "CA", "CERT", "KEY", undefined],
  );
});
