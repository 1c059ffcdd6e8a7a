/**
 * `vouch store import-crl`: the entries of a CRL (PEM or DER) into the store, as revoked
 * certificates. The CRL is checked exactly as the CRL source checks it (crl-load.ts: issuer,
 * signature, thisUpdate, extensions) before anything is written.
 */
import { ConfigError } from "../../errors.ts";
import { DerReader, TAG } from "../../ocsp/der-reader.ts";
import { CRL_DER } from "../crl/crl-error.ts";
import { crlIssuer, loadCrlFile } from "../crl/crl-load.ts";
import { parseCrl } from "../crl/crl-parse.ts";
import { crlDerOfFile } from "../crl/crl-pem.ts";
import type { SerialTable } from "../table/serial-table.ts";
import { readFileIntoSharedMemory } from "../files/shared-memory.ts";
import type { SqlDatabase } from "./sql-database.ts";
import type { IssuerIdentity } from "./issuer-identity.ts";
import type { ImportProgress, ImportResult } from "./import-rows.ts";
import { importAll, rowOf } from "./import-rows.ts";
import type { CertificateRow } from "./status-store.ts";

/**
 * Imports every entry of the CRL in `file` as a revoked certificate of `issuer` (time, reason,
 * invalidity date); entries with reason removeFromCRL (a delta CRL lifting a hold) are skipped:
 * use `vouch store unrevoke` for those. Rejects with ConfigError("file", problem, { file }) when
 * the CRL cannot be read, is malformed, is not the issuer's or does not verify (nothing written).
 */
export async function importCrlFile(db: SqlDatabase, issuer: IssuerIdentity, file: string, now: number, progress?: ImportProgress): Promise<ImportResult> {
  const loaded = await loadCrlFile(file, "file", crlIssuer(issuer.certificate), now);
  let der: Buffer;
  try {
    der = await crlDerOfFile(await readFileIntoSharedMemory(file));
  } catch (error) {
    throw new ConfigError("file", error instanceof Error ? error.message : String(error), { file, cause: error });
  }
  const crl = parseCrl(der);
  let skipped = 0;
  const rows = function* (table: SerialTable): Generator<CertificateRow> {
    // In the CRL's order; the load above has checked every entry.
    const entries = DerReader.over(der, crl.entriesStart, crl.entriesEnd, "revokedCertificates", CRL_DER);
    while (entries.hasMore) {
      const entry = entries.enterNext(TAG.SEQUENCE, "revokedCertificates");
      const serial = entry.content(entry.expect(TAG.INTEGER, "revokedCertificates"));
      const found = table.lookup(serial);
      if (found !== undefined && found.revokedAt !== undefined && found.reason !== "removeFromCRL") yield rowOf(serial, found);
      else skipped++;
    }
  };
  const result = await importAll(db, issuer, rows(loaded.entries), loaded.entries.size, now, progress);
  return { ...result, skipped };
}
