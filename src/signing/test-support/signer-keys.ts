import { join } from "node:path";
import { generateKey, openssl, readPemDer, type PkiKeyType } from "../../pki/openssl-pki.ts";

/** A key made by `openssl genpkey` in `dir`/NAME.key, with a self-signed certificate for it (DER). */
export async function keyAndCertificate(dir: string, type: PkiKeyType, name: string): Promise<{ readonly keyFile: string; readonly certificate: Buffer }> {
  const keyFile = join(dir, `${name}.key`);
  const certificateFile = join(dir, `${name}.pem`);
  await generateKey(type, keyFile);
  await openssl(["req", "-new", "-x509", "-key", keyFile, "-subj", `/CN=${name}`, "-days", "2", "-out", certificateFile]);
  return { keyFile, certificate: await readPemDer(certificateFile) };
}
