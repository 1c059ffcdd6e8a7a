/**
 * `vouch store import-index`: an OpenSSL CA database (index.txt) into the store. The file is
 * parsed whole first, by the same parser the index source uses (same checks, same "line N: …"
 * messages), so bad input is refused before anything is written.
 */
import { readFile } from "node:fs/promises";
import { ConfigError } from "../../errors.ts";
import { parseIndex } from "../index/index-parse.ts";
import { serialOctetsFromHex } from "../serial-key.ts";
import type { SerialTable } from "../table/serial-table.ts";
import type { SqlDatabase } from "./sql-database.ts";
import type { IssuerIdentity } from "./issuer-identity.ts";
import type { ImportProgress, ImportResult } from "./import-rows.ts";
import { importAll, rowOf } from "./import-rows.ts";
import type { CertificateRow } from "./status-store.ts";

/**
 * Imports every line of `file` for `issuer`: V and E lines as good, R lines as revoked (time,
 * reason, and the compromise time of keyTime/CAkeyTime as invalidity date); see importAll for what
 * a re-import changes. Rejects with ConfigError("file", "line N: …", { file }) for a malformed line
 * or an unreadable file (nothing written), or with the engine's error (everything rolled back).
 */
export async function importIndexFile(db: SqlDatabase, issuer: IssuerIdentity, file: string, now: number, progress?: ImportProgress): Promise<ImportResult> {
  let content: Buffer;
  try {
    content = await readFile(file);
  } catch (error) {
    throw new ConfigError("file", `cannot read: ${error instanceof Error ? error.message : String(error)}`, { file, cause: error });
  }
  const table = await parseIndex(content, file);
  return importAll(db, issuer, indexRows(content, table), table.size, now, progress);
}

/** Each line's serial with its status as the parsed table resolved it (a revoked line wins over a valid one). */
function* indexRows(content: Buffer, table: SerialTable): Generator<CertificateRow> {
  let p = 0;
  while (p < content.length) {
    let end = content.indexOf(0x0a, p);
    if (end < 0) end = content.length;
    // Fields: status, expiry, revocation, serial, … (the parser has checked there are six).
    let field = p;
    for (let i = 0; i < 3 && field > -1 && end > p; i++) {
      const tab = content.indexOf(0x09, field);
      field = tab < 0 ? -1 : tab + 1;
    }
    const serialEnd = field > p ? content.indexOf(0x09, field) : -1;
    if (serialEnd > field && serialEnd < end) {
      const serial = serialOctetsFromHex(content.toString("latin1", field, serialEnd));
      const found = serial === undefined ? undefined : table.lookup(serial);
      if (serial !== undefined && found !== undefined) yield rowOf(serial, found);
    }
    p = end + 1;
  }
}
