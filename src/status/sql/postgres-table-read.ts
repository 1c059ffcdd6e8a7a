/**
 * A full load of one issuer from a PostgreSQL store, for the loading thread (sql-jobs.ts):
 * the change number and every row in one REPEATABLE READ transaction (a consistent snapshot), the
 * rows as binary COPY (postgres-copy-out.ts), read straight into the table as they stream in.
 * Measured with 1M rows: a cursor's FETCHes took ~1.4 s of the server's text output and pg's
 * DataRow parsing, the server joining rows into text (string_agg) ~1.2 s; binary COPY ~0.34 s of
 * client CPU before building the table, the server's scan running beside it on the other core.
 */
import pg from "pg";
import { NO_REASON, SerialTableBuilder, type SerialTableParts } from "../table/serial-table.ts";
import { copyOut, CopyFormatError, type CopyRow } from "./postgres-copy-out.ts";
import { postgresClientConfig } from "./postgres-database.ts";

/** A connection for one load (made before the issuer is known: see startSqlLoad). Rejects with the driver's error. */
export async function connectForLoad(url: string, schema: string): Promise<pg.Client> {
  const client = new pg.Client({ ...postgresClientConfig({ url, schema }), application_name: "vouch-store-load" });
  // A connection that breaks while idle would otherwise be an uncaught 'error' event; queries reject on their own.
  client.on("error", () => {});
  await client.connect();
  return client;
}

/**
 * The issuer's rows as a table's parts, complete as of change number `seq`, over `client` (closed
 * afterwards). Rejects with the driver's error.
 */
export async function readPostgresTable(client: pg.Client, issuerId: number): Promise<{ parts: SerialTableParts; seq: number }> {
  let done = false;
  try {
    await client.query("BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY");
    // Sized without a count(*), which scans the whole table (~0.3 s for 1M rows): the table's size
    // bounds its rows (a heap tuple of this table takes more than 32 octets), untouched bounds cost
    // no memory, and the planner's row estimate sizes the hash slots (they grow if it is short).
    const { rows } = await client.query<[string, string, string]>({
      text: `SELECT (SELECT seq FROM store_state WHERE id = 1), pg_relation_size('certificates'),
               (SELECT reltuples FROM pg_class WHERE oid = 'certificates'::regclass)`,
      rowMode: "array",
    });
    const [seqText, sizeText, estimateText] = rows[0] ?? [];
    const seq = Number(seqText ?? 0);
    const bound = Math.ceil(Number(sizeText ?? 0) / 32) + 1;
    const estimate = Number(estimateText ?? 0);
    const builder = new SerialTableBuilder({ maxRows: bound, maxPoolBytes: bound * 20, expectedRows: estimate > 0 ? Math.min(bound, estimate * 1.05) : bound / 4 });
    // COPY takes no bind parameters; the id is an integer read from the store.
    const sql = `COPY (SELECT serial, revoked_at, reason, invalidity_date FROM certificates WHERE issuer_id = ${Math.trunc(issuerId)}) TO STDOUT (FORMAT binary)`;
    await copyOut(client, sql, 4, (row) => {
      const start = row.starts[0] ?? -1;
      if (start < 0) throw new CopyFormatError("a NULL serial");
      builder.add(row.chunk, start, row.ends[0] ?? start, int8(row, 1), row.starts[2] === -1 ? NO_REASON : int2(row, 2), int8(row, 3));
    });
    await client.query("COMMIT");
    done = true;
    return { parts: builder.parts(), seq };
  } finally {
    // After a failure (a timeout on a silent network) the goodbye may never be acknowledged: the
    // error is reported at once, and the thread is ended by its owner (sql-table-load.ts).
    const ending = client.end().catch(() => {});
    if (done) await ending;
  }
}

/** A BIGINT field (milliseconds) as a number, NaN for NULL. */
function int8(row: CopyRow, field: number): number {
  const start = row.starts[field] ?? -1;
  if (start < 0) return Number.NaN;
  if ((row.ends[field] ?? start) - start !== 8) throw new CopyFormatError(`field ${field} is not a BIGINT`);
  return row.chunk.readInt32BE(start) * 2 ** 32 + row.chunk.readUInt32BE(start + 4);
}

/** A SMALLINT field (never NULL here). */
function int2(row: CopyRow, field: number): number {
  const start = row.starts[field] ?? 0;
  if ((row.ends[field] ?? start) - start !== 2) throw new CopyFormatError(`field ${field} is not a SMALLINT`);
  return row.chunk.readInt16BE(start);
}
