/**
 * The root of a generated PKI (src/pki/openssl-pki.ts) run as an offline CA: a CA database of its
 * own, so that `openssl ca` can revoke the issuing CA and publish the root's CRL, as an operator of
 * a two-tier PKI does at the root's signing ceremony.
 */
import { readFile, rename, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { openssl, type Pki } from "../../src/pki/openssl-pki.ts";

export interface OfflineRoot {
  /** `openssl ca -revoke` with the root's database (the certificate need not have been issued from it). */
  revoke(certificate: string, reason?: string): Promise<void>;
  /** `openssl ca -gencrl` to `out`, replaced atomically; `times` sets thisUpdate and nextUpdate. */
  publishCrl(out: string, times?: { readonly thisUpdate: Date; readonly nextUpdate: Date }): Promise<void>;
}

export async function offlineRoot(pki: Pki): Promise<OfflineRoot> {
  const config = join(pki.stateDir, "root-ca.cnf");
  const database = join(pki.stateDir, "root-index.txt");
  const crlNumber = join(pki.stateDir, "root-crlnumber");
  await writeFile(database, "");
  await writeFile(`${database}.attr`, "unique_subject = no\n");
  await writeFile(crlNumber, "01\n");
  const text = (await readFile(pki.opensslConfig, "utf8"))
    .replace(/^database = .*$/m, `database = ${database}`)
    .replace(/^crlnumber = .*$/m, `crlnumber = ${crlNumber}`)
    .replace(/^certificate = .*$/m, `certificate = ${pki.root}`)
    .replace(/^private_key = .*$/m, `private_key = ${pki.rootKey}`);
  await writeFile(config, text);
  const stamp = (date: Date) => `${date.toISOString().replace(/[-:T]/g, "").slice(0, 14)}Z`;
  return {
    async revoke(certificate, reason = "keyCompromise") {
      await openssl(["ca", "-batch", "-config", config, "-revoke", certificate, "-crl_reason", reason]);
    },
    async publishCrl(out, times) {
      const pending = `${out}.new`;
      const validity = times === undefined ? [] : ["-crl_lastupdate", stamp(times.thisUpdate), "-crl_nextupdate", stamp(times.nextUpdate)];
      await openssl(["ca", "-batch", "-config", config, "-gencrl", "-out", pending, ...validity]);
      await rename(pending, out);
    },
  };
}
