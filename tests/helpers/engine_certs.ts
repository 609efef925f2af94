/**
 * Test certificates for a Docker engine with `--tlsverify`, made by
 * `openssl`: a CA, the engine's certificate for 127.0.0.1, a client
 * certificate, an expired client certificate and a second, unrelated CA.
 */

/** Paths of the PEM files {@linkcode makeEngineCerts} wrote. */
export interface EngineCerts {
  dir: string;
  ca: string;
  serverCert: string;
  serverKey: string;
  /** `cert.pem` and `key.pem` beside `ca.pem`: `dir` works as `DOCKER_CERT_PATH`. */
  clientCert: string;
  clientKey: string;
  /** Signed by the CA, valid for one day in 2020. */
  expiredCert: string;
  /** A CA that signed nothing here. */
  otherCa: string;
}

async function openssl(dir: string, args: string[]): Promise<void> {
  const out = await new Deno.Command("openssl", {
    args,
    cwd: dir,
    stdout: "piped",
    stderr: "piped",
  }).output();
  if (out.code !== 0) {
    throw new Error(`openssl ${args.join(" ")} failed:\n${new TextDecoder().decode(out.stderr)}`);
  }
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

/** Makes the certificates in `dir` (created if missing). */
export async function makeEngineCerts(dir: string): Promise<EngineCerts> {
  await Deno.mkdir(dir, { recursive: true });
  const run = (args: string[]) => openssl(dir, args);
  const subject = (cn: string) => ["-subj", `/CN=${cn}`];
  await run([
    "req",
    "-x509",
    "-newkey",
    "rsa:2048",
    "-nodes",
    "-keyout",
    "ca-key.pem",
    "-out",
    "ca.pem",
    "-days",
    "2",
    ...subject("capsule test CA"),
  ]);
  await run([
    "req",
    "-x509",
    "-newkey",
    "rsa:2048",
    "-nodes",
    "-keyout",
    "other-ca-key.pem",
    "-out",
    "other-ca.pem",
    "-days",
    "2",
    ...subject("another CA"),
  ]);
  await Deno.writeTextFile(
    `${dir}/server.ext`,
    "subjectAltName=IP:127.0.0.1,DNS:localhost\nextendedKeyUsage=serverAuth\n",
  );
  await run([
    "req",
    "-newkey",
    "rsa:2048",
    "-nodes",
    "-keyout",
    "server-key.pem",
    "-out",
    "server.csr",
    ...subject("127.0.0.1"),
  ]);
  await run([
    "x509",
    "-req",
    "-in",
    "server.csr",
    "-CA",
    "ca.pem",
    "-CAkey",
    "ca-key.pem",
    "-CAcreateserial",
    "-out",
    "server-cert.pem",
    "-days",
    "2",
    "-extfile",
    "server.ext",
  ]);
  await Deno.writeTextFile(`${dir}/client.ext`, "extendedKeyUsage=clientAuth\n");
  await run([
    "req",
    "-newkey",
    "rsa:2048",
    "-nodes",
    "-keyout",
    "key.pem",
    "-out",
    "client.csr",
    ...subject("capsule"),
  ]);
  await run([
    "x509",
    "-req",
    "-in",
    "client.csr",
    "-CA",
    "ca.pem",
    "-CAkey",
    "ca-key.pem",
    "-CAcreateserial",
    "-out",
    "cert.pem",
    "-days",
    "2",
    "-extfile",
    "client.ext",
  ]);
  await Deno.writeTextFile(`${dir}/ca.cnf`, CA_CONFIG);
  await Deno.writeTextFile(`${dir}/index.txt`, "");
  await Deno.writeTextFile(`${dir}/serial`, "1000\n");
  await run([
    "ca",
    "-batch",
    "-config",
    "ca.cnf",
    "-cert",
    "ca.pem",
    "-keyfile",
    "ca-key.pem",
    "-in",
    "client.csr",
    "-out",
    "expired-cert.pem",
    "-startdate",
    "20200101000000Z",
    "-enddate",
    "20200102000000Z",
    "-notext",
  ]);
  return {
    dir,
    ca: `${dir}/ca.pem`,
    serverCert: `${dir}/server-cert.pem`,
    serverKey: `${dir}/server-key.pem`,
    clientCert: `${dir}/cert.pem`,
    clientKey: `${dir}/key.pem`,
    expiredCert: `${dir}/expired-cert.pem`,
    otherCa: `${dir}/other-ca.pem`,
  };
}
