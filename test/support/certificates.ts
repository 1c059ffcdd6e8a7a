/**
 * Extra certificates for access-control tests, issued by a generated PKI's CA with `openssl ca`
 * (so index.txt knows them), with extension sections of the test's choosing.
 */
import { writeFile } from "node:fs/promises";
import { join } from "node:path";
import { generateKey, openssl, type Pki } from "../../src/pki/openssl-pki.ts";

export interface IssueExtraOptions {
  /** The body of an openssl extension section. */
  readonly extensions: string;
  readonly commonName: string;
  readonly keyAlgorithm?: "ec" | "rsa";
  /** openssl ca -startdate / -enddate (YYYYMMDDHHMMSSZ). */
  readonly startDate?: string;
  readonly endDate?: string;
}

export const CLIENT_EXTENSIONS = "basicConstraints = critical,CA:FALSE\nkeyUsage = critical,digitalSignature\nextendedKeyUsage = clientAuth\n";

/** Issues `<pki.dir>/<name>.pem` with key `<name>.key`; returns both paths. */
export async function issueExtra(pki: Pki, name: string, options: IssueExtraOptions): Promise<{ certificate: string; key: string }> {
  const key = join(pki.dir, `${name}.key`);
  const csr = join(pki.stateDir, `${name}.csr`);
  const certificate = join(pki.dir, `${name}.pem`);
  const extfile = join(pki.stateDir, `${name}.ext`);
  await writeFile(extfile, `[ ext ]\n${options.extensions}`);
  await generateKey(options.keyAlgorithm === "rsa" ? "rsa-2048" : "ecdsa-p256", key);
  await openssl(["req", "-new", "-key", key, "-out", csr, "-subj", `/C=SE/O=Vouch Demo/CN=${options.commonName}`, "-config", pki.opensslConfig]);
  const dates = [...(options.startDate ? ["-startdate", options.startDate] : []), ...(options.endDate ? ["-enddate", options.endDate] : [])];
  await openssl(["ca", "-batch", "-config", pki.opensslConfig, "-in", csr, "-out", certificate, "-notext", "-extfile", extfile, "-extensions", "ext", ...dates]);
  return { certificate, key };
}
