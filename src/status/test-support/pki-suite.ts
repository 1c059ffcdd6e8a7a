/**
 * A PKI (src/pki/openssl-pki.ts) made in a fresh temporary folder for a test suite, and how to
 * remove the folder again: the set-up every source's test file starts with.
 */
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createPki, readPemDer, type Pki, type PkiOptions } from "../../pki/openssl-pki.ts";

export interface PkiSuite {
  /** The temporary folder; the PKI is in `pki.dir` (a folder below it when `below` was given). */
  readonly dir: string;
  readonly pki: Pki;
  /** The issuing CA's certificate, DER. */
  readonly issuer: Buffer;
  remove(): Promise<void>;
}

export async function pkiSuite(prefix: string, options: Omit<PkiOptions, "dir"> & { readonly below?: string } = {}): Promise<PkiSuite> {
  const dir = await mkdtemp(join(tmpdir(), prefix));
  const { below, ...pkiOptions } = options;
  const pki = await createPki({ ...pkiOptions, dir: below === undefined ? dir : join(dir, below) });
  return { dir, pki, issuer: await readPemDer(pki.ca), remove: () => rm(dir, { recursive: true, force: true }) };
}
