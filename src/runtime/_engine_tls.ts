import { createPrivateKey, X509Certificate } from "node:crypto";
import { CapsuleError } from "../errors/mod.ts";
import type { EngineTlsFiles } from "./engine_endpoint.ts";

/** The PEM texts of {@linkcode EngineTlsFiles}, read and checked. */
export interface EngineTlsMaterial {
  ca: string;
  cert: string;
  key: string;
}

/** Which setting names each file, for messages. */
function settingOf(files: EngineTlsFiles, which: "ca" | "cert" | "key"): string {
  return files.from === "docker.tls" ? `docker.tls.${which}` : "DOCKER_CERT_PATH";
}

function invalid(
  files: EngineTlsFiles,
  which: "ca" | "cert" | "key",
  why: string,
  cause?: unknown,
) {
  return new CapsuleError(
    "ENGINE_TLS_INVALID",
    `Cannot use "${files[which]}" (${settingOf(files, which)}) for the container engine: ${why}`,
    cause === undefined ? {} : { cause },
  );
}

async function read(files: EngineTlsFiles, which: "ca" | "cert" | "key"): Promise<string> {
  try {
    return await Deno.readTextFile(files[which]);
  } catch (error) {
    throw invalid(files, which, "it cannot be read", error);
  }
}

function certificate(files: EngineTlsFiles, which: "ca" | "cert", pem: string): X509Certificate {
  try {
    return new X509Certificate(pem);
  } catch (error) {
    throw invalid(files, which, "it is not a PEM certificate", error);
  }
}

/**
 * Reads capsule's TLS files for the engine and checks what can be checked
 * without the engine: each is PEM, the client certificate is inside its
 * validity window and the key is its key. An engine refuses an expired
 * certificate with nothing more than "bad certificate", so this is where the
 * operator learns why.
 *
 * @param now the time to check validity against (now by default)
 * @throws {CapsuleError} `ENGINE_TLS_INVALID`, naming the file and the setting
 */
export async function readEngineTls(
  files: EngineTlsFiles,
  now: Date = new Date(),
): Promise<EngineTlsMaterial> {
  const [ca, cert, key] = await Promise.all([
    read(files, "ca"),
    read(files, "cert"),
    read(files, "key"),
  ]);
  certificate(files, "ca", ca);
  const client = certificate(files, "cert", cert);
  const from = new Date(client.validFrom);
  const to = new Date(client.validTo);
  if (now.getTime() > to.getTime()) {
    throw invalid(files, "cert", `the client certificate expired on ${to.toISOString()}`);
  }
  if (now.getTime() < from.getTime()) {
    throw invalid(
      files,
      "cert",
      `the client certificate is not valid before ${from.toISOString()}`,
    );
  }
  let privateKey;
  try {
    privateKey = createPrivateKey(key);
  } catch (error) {
    throw invalid(files, "key", "it is not a PEM private key", error);
  }
  if (!client.checkPrivateKey(privateKey)) {
    throw invalid(files, "key", `it is not the key of the certificate "${files.cert}"`);
  }
  return { ca, cert, key };
}
