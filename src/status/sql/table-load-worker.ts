/**
 * A thread that loads one part of an issuer's rows for `startTableLoad`: the driver's data, the
 * parse and its garbage live here, and only the finished table's arrays cross to the serving
 * thread, transferred without a copy. It starts before the issuer is known (loading its modules,
 * and on PostgreSQL connecting), then waits for `{ issuerId }`. Posts `{ parts, seq }` or
 * `{ error: { message } }`. SQLite is loaded in two parts: the lower part's thread first posts
 * `{ split }` (the median serial), which the serving thread hands on to the upper part's thread as
 * `{ split }`; PostgreSQL in one.
 */
import { parentPort, workerData } from "node:worker_threads";
import type { SerialTableParts } from "../table/serial-table.ts";
import { SerialTableBuilder, transferables } from "../table/serial-table.ts";
import type { PartLoad } from "./load-table-in-worker.ts";

const load = workerData as PartLoad;

// Every message from the serving thread, in order: `{ issuerId }`, then (SQLite's upper part) `{ split }`.
const inbox: unknown[] = [];
let waiting: ((message: unknown) => void) | undefined;
const receive = (message: unknown): void => {
  if (waiting === undefined) {
    inbox.push(message);
  } else {
    const deliver = waiting;
    waiting = undefined;
    deliver(message);
  }
};
parentPort!.on("message", receive);
const next = <T>(): Promise<T> => (inbox.length > 0 ? Promise.resolve(inbox.shift() as T) : new Promise<T>((resolve) => (waiting = resolve as (message: unknown) => void)));

async function readPart(): Promise<{ parts: SerialTableParts; seq: number }> {
  // Only the engine in use is loaded: pg costs this thread ~60 ms of module loading.
  if (load.engine === "postgres") {
    const { connectForLoad, readPostgresTable } = await import("./postgres-table-read.ts");
    const connecting = connectForLoad(load.database, load.schema);
    // Reported once the load is asked for, not before (an unhandled rejection would end the thread).
    connecting.catch(() => {});
    const { issuerId } = await next<{ issuerId: number }>();
    return readPostgresTable(await connecting, issuerId);
  }
  const { openSqliteSnapshot } = await import("./sqlite-table-read.ts");
  const { issuerId } = await next<{ issuerId: number }>();
  const snapshot = openSqliteSnapshot(load.database, issuerId);
  try {
    if (load.of === 1) return { parts: snapshot.read({ from: undefined, to: undefined }), seq: snapshot.seq };
    if (load.part === 0) {
      const median = snapshot.medianSerial();
      // The upper part's size is a hint: rows committed between the two snapshots only grow its table.
      parentPort!.postMessage({ split: median.serial, rows: median.rows - Math.floor(median.rows / 2) });
      return { parts: snapshot.read({ from: undefined, to: median.serial, rows: median.serial === undefined ? median.rows : Math.floor(median.rows / 2) }), seq: snapshot.seq };
    }
    const { split, rows } = await next<{ split: Uint8Array | undefined; rows: number }>();
    // Fewer than two rows: the lower part has them all.
    const parts = split === undefined ? new SerialTableBuilder().parts() : snapshot.read({ from: split, to: undefined, rows });
    return { parts, seq: snapshot.seq };
  } finally {
    snapshot.close();
  }
}

try {
  const { parts, seq } = await readPart();
  parentPort!.postMessage({ parts, seq }, transferables(parts));
} catch (error) {
  parentPort!.postMessage({ error: { message: error instanceof Error ? error.message : String(error) } });
}
// The listener would keep the thread alive (removeAllListeners does not unref the port; off does).
parentPort!.off("message", receive);
