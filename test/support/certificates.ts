/**
 * Extra certificates for access-control tests, issued by a generated PKI's CA with `openssl ca`
 * (so index.txt knows them), with extension sections of the test's choosing.
 */
import { execFile } from "node:child_process";
import { writeFile } from "node:fs/promises";
import { join } from "node:path";
import { promisify } from "node:util";
import type { Pki } from "../../src/pki/openssl-pki.ts";

const run = promisify(execFile);

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
  const keyArgs = options.keyAlgorithm === "rsa" ? ["-algorithm", "RSA", "-pkeyopt", "rsa_keygen_bits:2048"] : ["-algorithm", "EC", "-pkeyopt", "ec_paramgen_curve:P-256"];
  await run("openssl", ["genpkey", ...keyArgs, "-out", key]);
  await run("openssl", ["req", "-new", "-key", key, "-out", csr, "-subj", `/C=SE/O=Vouch Demo/CN=${options.commonName}`, "-config", pki.opensslConfig]);
  const dates = [...(options.startDate ? ["-startdate", options.startDate] : []), ...(options.endDate ? ["-enddate", options.endDate] : [])];
  await run("openssl", ["ca", "-batch", "-config", pki.opensslConfig, "-in", csr, "-out", certificate, "-notext", "-extfile", extfile, "-extensions", "ext", ...dates]);
  return { certificate, key };
}
