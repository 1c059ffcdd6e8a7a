/**
 * A full load of one issuer from an SQLite store, for a loading thread (sql-jobs.ts):
 * the change number and the rows of one range of serials in one read transaction (a consistent
 * snapshot, while writers go on in WAL mode), in keyset pages along the primary key that SQLite
 * joins into text (status-text.ts). Two threads load the two halves of the serials side by side
 * (sql-table-load.ts): the lower half's thread finds the median serial that splits them.
 */
import { DatabaseSync } from "node:sqlite";
import { SerialTableBuilder, type SerialTableParts } from "../table/serial-table.ts";
import { addStatusText, STATUS_ROW_TEXT } from "./status-text.ts";

/** Rows SQLite joins per page: ~800 KB of text. */
const PAGE_ROWS = 16_384;

/** Which serials to load: `from` (inclusive) up to `to` (exclusive); `undefined` is no bound. */
export interface SerialRange {
  readonly from: Uint8Array | undefined;
  readonly to: Uint8Array | undefined;
  /** How many rows the range holds, when known (it is counted otherwise): sizes the table. */
  readonly rows?: number;
}

/** The serial that splits the issuer's rows in two halves, and their number. */
export interface Median {
  /** `undefined` for fewer than two rows. */
  readonly serial: Uint8Array | undefined;
  readonly rows: number;
}

/** An open read transaction on the store. */
export interface SqliteSnapshot {
  /** The change number the snapshot is complete as of. */
  readonly seq: number;
  medianSerial(): Median;
  /** The rows in `range` as a table's parts. */
  read(range: SerialRange): SerialTableParts;
  close(): void;
}

/** Opens `file` read-only and starts a read transaction on it. Throws the engine's error. */
export function openSqliteSnapshot(file: string, issuerId: number): SqliteSnapshot {
  const db = new DatabaseSync(file, { readOnly: true });
  try {
    db.exec("BEGIN");
    const seq = Number(db.prepare("SELECT seq FROM store_state WHERE id = 1").get()?.["seq"] ?? 0);
    return {
      seq,
      medianSerial() {
        const rows = Number(db.prepare("SELECT count(*) AS n FROM certificates WHERE issuer_id = ?").get(issuerId)?.["n"] ?? 0);
        if (rows < 2) return { serial: undefined, rows };
        const row = db.prepare("SELECT serial FROM certificates WHERE issuer_id = ? ORDER BY serial LIMIT 1 OFFSET ?").get(issuerId, Math.floor(rows / 2));
        return { serial: row?.["serial"] instanceof Uint8Array ? row["serial"] : undefined, rows };
      },
      read: (range) => readRange(db, issuerId, range),
      close: () => db.close(),
    };
  } catch (error) {
    db.close();
    throw error;
  }
}

function readRange(db: DatabaseSync, issuerId: number, range: SerialRange): SerialTableParts {
  const upper = range.to === undefined ? "" : " AND serial < ?";
  const bound = (...params: Uint8Array[]): Uint8Array[] => (range.to === undefined ? params : [...params, range.to]);
  const count =
    range.rows ?? Number(db.prepare(`SELECT count(*) AS n FROM certificates WHERE issuer_id = ? AND serial >= ?${upper}`).get(issuerId, ...bound(range.from ?? new Uint8Array(0)))?.["n"] ?? 0);
  const builder = new SerialTableBuilder({ maxRows: count + 1, maxPoolBytes: count * 20 + 1 });
  // The first page starts at `from` itself; the next ones after the last serial read.
  const page = (after: "<" | "<="): ReturnType<DatabaseSync["prepare"]> => {
    const statement = db.prepare(
      `SELECT group_concat(${STATUS_ROW_TEXT}, ';'), max(serial), count(*) FROM
        (SELECT serial, revoked_at, reason, invalidity_date FROM certificates
         WHERE issuer_id = ? AND ? ${after} serial${upper} ORDER BY serial LIMIT ${PAGE_ROWS})`,
    );
    statement.setReturnArrays(true);
    return statement;
  };
  const first = page("<=");
  const next = page("<");
  const scratch = new Uint8Array(256);
  // Every serial is at least one octet, so the empty blob sorts before all of them.
  let after: Uint8Array = range.from ?? new Uint8Array(0);
  for (let statement = first; ; statement = next) {
    const [text, last, rows] = statement.get(issuerId, ...bound(after)) as unknown as [string | null, Uint8Array | null, number];
    if (text === null || last === null) break;
    addStatusText(text, builder, scratch);
    if (rows < PAGE_ROWS) break;
    after = last;
  }
  return builder.parts();
}
