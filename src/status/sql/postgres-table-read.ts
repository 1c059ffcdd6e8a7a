/**
 * A full load of one issuer from a PostgreSQL store, for the loading thread (table-load-worker.ts):
 * the change number and every row in one REPEATABLE READ transaction (a consistent snapshot),
 * joined into text by the server (status-text.ts) in groups of ~16k rows, fetched a few groups at
 * a time through a cursor. Measured with 1M rows: a cursor over plain rows took ~1.4 s; the server
 * joining them ~0.45 s, and pg then hands over a few long strings instead of a million DataRows.
 */
import pg from "pg";
import { SerialTableBuilder, type SerialTableParts } from "../serial-table.ts";
import { postgresClientConfig } from "./postgres-database.ts";
import { addStatusText, statusRowText } from "./status-text.ts";

/** Rows per group the server joins (~800 KB of text), and groups per FETCH. */
const GROUP_ROWS = 16_384;
const GROUPS_PER_FETCH = 8;
/** Every value as the server's text: the loader reads them itself. */
const AS_TEXT = { getTypeParser: () => (value: string) => value };

/** The issuer's rows as a table's parts, complete as of change number `seq`. Rejects with the driver's error. */
export async function readPostgresTable(url: string, schema: string, issuerId: number): Promise<{ parts: SerialTableParts; seq: number }> {
  const client = new pg.Client({ ...postgresClientConfig({ url, schema }), application_name: "vouch-store-load" });
  // A connection that breaks while idle would otherwise be an uncaught 'error' event; queries reject on their own.
  client.on("error", () => {});
  await client.connect();
  try {
    await client.query("BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY");
    const value = async (sql: string, params: readonly unknown[] = []): Promise<number> =>
      Number((await client.query<unknown[]>({ text: sql, values: [...params], rowMode: "array", types: AS_TEXT })).rows[0]?.[0] ?? 0);
    const seq = await value("SELECT seq FROM store_state WHERE id = 1");
    const count = await value("SELECT count(*) FROM certificates WHERE issuer_id = $1", [issuerId]);
    const builder = new SerialTableBuilder({ maxRows: count + 1, maxPoolBytes: count * 20 + 1 });
    // Grouped by the serial's last octet: spread evenly for sequential and random serials alike.
    const groups = Math.min(256, Math.max(1, Math.ceil(count / GROUP_ROWS)));
    // DECLARE takes no bind parameters; both numbers are integers computed here.
    await client.query(
      `DECLARE vouch_load NO SCROLL CURSOR FOR SELECT string_agg(${statusRowText("encode(serial, 'hex')")}, ';')
       FROM certificates WHERE issuer_id = ${Math.trunc(issuerId)} GROUP BY get_byte(serial, length(serial) - 1) % ${groups}`,
    );
    const scratch = new Uint8Array(256);
    for (;;) {
      const { rows } = await client.query<[string]>({ text: `FETCH ${GROUPS_PER_FETCH} FROM vouch_load`, rowMode: "array", types: AS_TEXT });
      for (const [text] of rows) addStatusText(text, builder, scratch);
      if (rows.length < GROUPS_PER_FETCH) break;
    }
    await client.query("COMMIT");
    return { parts: builder.parts(), seq };
  } finally {
    await client.end().catch(() => {});
  }
}
