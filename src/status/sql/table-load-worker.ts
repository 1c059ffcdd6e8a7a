/**
 * The thread that loads one issuer's rows for `loadTableInWorker`: the driver's strings, the parse
 * and its garbage live here, and only the finished table's arrays cross to the serving thread,
 * transferred without a copy. Posts `{ parts, seq }` or `{ error: { message } }`.
 */
import { parentPort, workerData } from "node:worker_threads";
import { transferables } from "../serial-table.ts";
import type { TableLoad } from "./load-table-in-worker.ts";

const load = workerData as TableLoad;
try {
  // Only the engine in use is loaded: pg costs this thread ~60 ms of module loading.
  const { parts, seq } =
    load.engine === "sqlite"
      ? (await import("./sqlite-table-read.ts")).readSqliteTable(load.database, load.issuerId)
      : await (await import("./postgres-table-read.ts")).readPostgresTable(load.database, load.schema, load.issuerId);
  parentPort!.postMessage({ parts, seq }, transferables(parts));
} catch (error) {
  parentPort!.postMessage({ error: { message: error instanceof Error ? error.message : String(error) } });
}
