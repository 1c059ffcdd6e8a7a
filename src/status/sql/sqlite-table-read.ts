/**
 * A full load of one issuer from an SQLite store, for the loading thread (table-load-worker.ts):
 * the change number and every row in one read transaction (a consistent snapshot, while writers
 * go on in WAL mode), in keyset pages along the primary key that SQLite joins into text
 * (status-text.ts).
 */
import { DatabaseSync } from "node:sqlite";
import { SerialTableBuilder, type SerialTableParts } from "../serial-table.ts";
import { addStatusText, STATUS_ROW_TEXT } from "./status-text.ts";

/** Rows SQLite joins per page: ~800 KB of text. */
const PAGE_ROWS = 16_384;

/** The issuer's rows as a table's parts, complete as of change number `seq`. Throws the engine's error. */
export function readSqliteTable(file: string, issuerId: number): { parts: SerialTableParts; seq: number } {
  const db = new DatabaseSync(file, { readOnly: true });
  try {
    db.exec("BEGIN");
    const seq = Number(db.prepare("SELECT seq FROM store_state WHERE id = 1").get()?.["seq"] ?? 0);
    const count = Number(db.prepare("SELECT count(*) AS n FROM certificates WHERE issuer_id = ?").get(issuerId)?.["n"] ?? 0);
    const builder = new SerialTableBuilder({ maxRows: count + 1, maxPoolBytes: count * 20 + 1 });
    const page = db.prepare(
      `SELECT group_concat(${STATUS_ROW_TEXT}, ';'), max(serial), count(*) FROM
        (SELECT serial, revoked_at, reason, invalidity_date FROM certificates WHERE issuer_id = ? AND serial > ? ORDER BY serial LIMIT ?)`,
    );
    page.setReturnArrays(true);
    const scratch = new Uint8Array(256);
    let after: Uint8Array = new Uint8Array(0);
    for (;;) {
      const [text, last, rows] = page.get(issuerId, after, PAGE_ROWS) as unknown as [string | null, Uint8Array | null, number];
      if (text === null || last === null) break;
      addStatusText(text, builder, scratch);
      if (rows < PAGE_ROWS) break;
      after = last;
    }
    db.exec("COMMIT");
    return { parts: builder.parts(), seq };
  } finally {
    db.close();
  }
}
