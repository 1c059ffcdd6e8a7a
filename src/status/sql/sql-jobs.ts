/**
 * The SQL job of a loading thread (loading-jobs.ts): one part of an issuer's rows, for
 * `startSqlLoad` (sql-table-load.ts). The driver's data, the parse and its garbage stay on the
 * thread; only the finished table's arrays cross to the serving thread. It starts before the issuer
 * is known, loading its modules and on PostgreSQL connecting, and waits for `{ issuerId }` on its
 * `start` port. SQLite is loaded in two parts: the lower part's thread finds the median serial and
 * sends `{ split, rows }` to the upper part's thread over their `peer` channel; PostgreSQL in one.
 */
import type { MessagePort } from "node:worker_threads";
import type { JobDone } from "../loading-jobs.ts";
import { SerialTableBuilder, type SerialTableParts } from "../table/serial-table.ts";

/** Where the rows are: the SQLite file, or the PostgreSQL URL and schema. */
export interface TableLocation {
  readonly engine: "sqlite" | "postgres";
  readonly database: string;
  readonly schema: string;
}

/** What one part's thread is given. */
export interface SqlPartInput extends TableLocation {
  readonly part: number;
  readonly of: 1 | 2;
  /** Where `{ issuerId }` arrives once the issuer is known. */
  readonly start: MessagePort;
  /** SQLite's two parts: the channel between their threads. */
  readonly peer: MessagePort | undefined;
}

/** One part's rows as a table's parts, complete as of change number `seq`. */
export interface SqlPart {
  readonly parts: SerialTableParts;
  readonly seq: number;
}

export async function sqlPartJob(input: SqlPartInput): Promise<JobDone<SqlPart>> {
  try {
    const part = await readPart(input);
    return { output: part };
  } finally {
    input.start.close();
    input.peer?.close();
  }
}

function firstMessage<T>(port: MessagePort): Promise<T> {
  return new Promise((resolve) => port.once("message", resolve));
}

async function readPart(input: SqlPartInput): Promise<SqlPart> {
  // Only the engine in use is loaded: pg costs this thread ~60 ms of module loading.
  if (input.engine === "postgres") {
    const { connectForLoad, readPostgresTable } = await import("./postgres-table-read.ts");
    const connecting = connectForLoad(input.database, input.schema);
    // Reported once the load is asked for, not before (an unhandled rejection would end the thread).
    connecting.catch(() => {});
    const { issuerId } = await firstMessage<{ issuerId: number }>(input.start);
    return readPostgresTable(await connecting, issuerId);
  }
  const { openSqliteSnapshot } = await import("./sqlite-table-read.ts");
  const { issuerId } = await firstMessage<{ issuerId: number }>(input.start);
  const snapshot = openSqliteSnapshot(input.database, issuerId);
  try {
    if (input.of === 1 || input.peer === undefined) return { parts: snapshot.read({ from: undefined, to: undefined }), seq: snapshot.seq };
    if (input.part === 0) {
      const median = snapshot.medianSerial();
      // The upper part's size is a hint: rows committed between the two snapshots only grow its table.
      input.peer.postMessage({ split: median.serial, rows: median.rows - Math.floor(median.rows / 2) });
      return { parts: snapshot.read({ from: undefined, to: median.serial, rows: median.serial === undefined ? median.rows : Math.floor(median.rows / 2) }), seq: snapshot.seq };
    }
    const { split, rows } = await firstMessage<{ split: Uint8Array | undefined; rows: number }>(input.peer);
    // Fewer than two rows: the lower part has them all.
    const parts = split === undefined ? new SerialTableBuilder().parts() : snapshot.read({ from: split, to: undefined, rows });
    return { parts, seq: snapshot.seq };
  } finally {
    snapshot.close();
  }
}
