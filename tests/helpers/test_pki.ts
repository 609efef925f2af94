/**
 * A throwaway PKI made with `openssl` for webhook tests: a CA, a server
 * certificate for 127.0.0.1 and localhost, and a client certificate, all
 * signed by the CA; plus a second CA that signed nothing capsule trusts.
 */

/** Paths of the PEM files of {@linkcode makeTestPki}. */
export interface TestPki {
  dir: string;
  ca: string;
  serverCert: string;
  serverKey: string;
  clientCert: string;
  clientKey: string;
  /** A CA that signed nothing here. */
  otherCa: string;
}

/** Runs `openssl` in `cwd`; throws with its message when it fails. */
export async function openssl(args: string[], cwd: string): Promise<void> {
  const out = await new Deno.Command("openssl", { args, cwd, stdout: "piped", stderr: "piped" })
    .output();
  if (out.code !== 0) {
    throw new Error(`openssl ${args[0]} failed: ${new TextDecoder().decode(out.stderr)}`);
  }
}

const EC = ["-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes"];

/**
 * Makes the files in `dir` (created if missing), by default a new temporary
 * directory; the caller removes it. The CA's key is `ca.key` beside `ca.pem`.
 */
export async function makeTestPki(
  dir?: string,
): Promise<TestPki> {
  if (dir === undefined) dir = await Deno.makeTempDir({ prefix: "capsule-pki-" });
  else await Deno.mkdir(dir, { recursive: true });
  const where = dir;
  const ca = async (name: string) =>
    await openssl(
      ["req", "-x509", ...EC, "-keyout", `${name}.key`, "-out", `${name}.pem`, "-days", "2"]
        .concat(["-subj", `/CN=capsule test ${name}`]),
      where,
    );
  await ca("ca");
  await ca("other-ca");
  const leaf = async (name: string, subject: string, extensions: string) => {
    await Deno.writeTextFile(`${where}/${name}.ext`, extensions);
    await openssl(
      ["req", ...EC, "-keyout", `${name}.key`, "-out", `${name}.csr`, "-subj", subject],
      where,
    );
    await openssl(
      ["x509", "-req", "-in", `${name}.csr`, "-CA", "ca.pem", "-CAkey", "ca.key"]
        .concat(["-CAcreateserial", "-out", `${name}.pem`, "-days", "2"])
        .concat(["-extfile", `${name}.ext`]),
      where,
    );
  };
  await leaf(
    "server",
    "/CN=localhost",
    "subjectAltName=IP:127.0.0.1,DNS:localhost\nextendedKeyUsage=serverAuth\n",
  );
  await leaf("client", "/CN=capsule", "extendedKeyUsage=clientAuth\n");
  return {
    dir,
    ca: `${dir}/ca.pem`,
    serverCert: `${dir}/server.pem`,
    serverKey: `${dir}/server.key`,
    clientCert: `${dir}/client.pem`,
    clientKey: `${dir}/client.key`,
    otherCa: `${dir}/other-ca.pem`,
  };
}
