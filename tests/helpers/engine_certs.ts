/**
 * Test certificates for a Docker engine with `--tlsverify`, made by
 * `openssl`: a CA, the engine's certificate for 127.0.0.1, a client
 * certificate, an expired client certificate and a second, unrelated CA.
 */
import { makeTestPki, openssl, type TestPki } from "./test_pki.ts";

/**
 * Paths of the PEM files {@linkcode makeEngineCerts} wrote: the test PKI's,
 * with `clientCert` and `clientKey` as `cert.pem` and `key.pem` beside
 * `ca.pem` (so that `dir` works as `DOCKER_CERT_PATH`).
 */
export interface EngineCerts extends TestPki {
  /** Signed by the CA, valid for one day in 2020. */
  expiredCert: string;
}

/** The config of `openssl ca`, the one command that sets a certificate's dates at will. */
const CA_CONFIG = `[ca]
default_ca = test
[test]
database = index.txt
new_certs_dir = .
serial = serial
default_md = sha256
policy = any
copy_extensions = none
x509_extensions = client
unique_subject = no
[any]
commonName = supplied
[client]
extendedKeyUsage = clientAuth
`;

/**
 * Makes the certificates in `dir` (created if missing): the test PKI of
 * `test_pki.ts`, with the client's pair also as `cert.pem` and `key.pem` (so
 * that `dir` works as `DOCKER_CERT_PATH`), and an expired client certificate.
 */
export async function makeEngineCerts(dir: string): Promise<EngineCerts> {
  const pki = await makeTestPki(dir);
  await Deno.copyFile(pki.clientCert, `${dir}/cert.pem`);
  await Deno.copyFile(pki.clientKey, `${dir}/key.pem`);
  await Deno.writeTextFile(`${dir}/ca.cnf`, CA_CONFIG);
  await Deno.writeTextFile(`${dir}/index.txt`, "");
  await Deno.writeTextFile(`${dir}/serial`, "1000\n");
  await openssl([
    "ca",
    "-batch",
    "-config",
    "ca.cnf",
    "-cert",
    "ca.pem",
    "-keyfile",
    "ca.key",
    "-in",
    "client.csr",
    "-out",
    "expired-cert.pem",
    "-startdate",
    "20200101000000Z",
    "-enddate",
    "20200102000000Z",
    "-notext",
  ], dir);
  return {
    ...pki,
    clientCert: `${dir}/cert.pem`,
    clientKey: `${dir}/key.pem`,
    expiredCert: `${dir}/expired-cert.pem`,
  };
}
