import assert from "node:assert/strict";
import { readEngineTls } from "../../src/runtime/_engine_tls.ts";
import type { EngineTlsFiles } from "../../src/runtime/engine_endpoint.ts";
import { CapsuleError } from "../../src/errors/mod.ts";
import { makeEngineCerts } from "../helpers/engine_certs.ts";

Deno.test("readEngineTls() reads good files and names the file and the reason otherwise", async (t) => {
  const dir = await Deno.makeTempDir({ prefix: "capsule-engine-tls-" });
  try {
    const certs = await makeEngineCerts(dir);
    const files: EngineTlsFiles = {
      ca: certs.ca,
      cert: certs.clientCert,
      key: certs.clientKey,
      from: "docker.tls",
    };
    await t.step("good files", async () => {
      const material = await readEngineTls(files);
      assert.match(material.cert, /BEGIN CERTIFICATE/);
      assert.match(material.key, /PRIVATE KEY/);
    });
    const refused = async (changed: Partial<EngineTlsFiles>, message: RegExp, now?: Date) => {
      const error = await readEngineTls({ ...files, ...changed }, now).then(
        () => assert.fail("accepted"),
        (e: unknown) => e,
      );
      assert.ok(error instanceof CapsuleError);
      assert.equal(error.code, "ENGINE_TLS_INVALID");
      assert.match(error.message, message);
    };
    await t.step("an expired client certificate", () =>
      refused(
        { cert: certs.expiredCert },
        /Cannot use ".*expired-cert.pem" \(docker.tls.cert\) for the container engine: the client certificate expired on 2020-01-02T00:00:00.000Z/,
      ));
    await t.step(
      "a certificate not valid yet",
      () => refused({}, /is not valid before/, new Date("2001-01-01T00:00:00Z")),
    );
    await t.step(
      "a key that is not the certificate's",
      () =>
        refused(
          { key: certs.serverKey },
          /\(docker.tls.key\) .*: it is not the key of the certificate/,
        ),
    );
    await t.step(
      "a missing file, named by DOCKER_CERT_PATH",
      () =>
        refused(
          { ca: `${dir}/absent.pem`, from: "DOCKER_CERT_PATH" },
          /"[^"]*absent.pem" \(DOCKER_CERT_PATH\) .*: it cannot be read/,
        ),
    );
    await t.step(
      "a key where the CA should be",
      () => refused({ ca: certs.clientKey }, /\(docker.tls.ca\) .*: it is not a PEM certificate/),
    );
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
