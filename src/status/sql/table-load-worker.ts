/**
 * A thread that loads one part of an issuer's rows for `loadTableInWorker`: the driver's data, the
 * parse and its garbage live here, and only the finished table's arrays cross to the serving
 * thread, transferred without a copy. Posts `{ parts, seq }` or `{ error: { message } }`. SQLite is
 * loaded in two parts: the lower part's thread first posts `{ split }` (the median serial), which
 * the serving thread hands on to the upper part's thread; PostgreSQL in one.
 */
import { parentPort, workerData } from "node:worker_threads";
import type { SerialTableParts } from "../serial-table.ts";
import { SerialTableBuilder, transferables } from "../serial-table.ts";
import type { PartLoad } from "./load-table-in-worker.ts";

const load = workerData as PartLoad;

/** The median serial, from the serving thread (`undefined` when there are fewer than two rows). */
const splitFromParent = (): Promise<Uint8Array | undefined> =>
  new Promise((resolve) => parentPort!.once("message", (message: { split: Uint8Array | undefined }) => resolve(message.split)));

async function readPart(): Promise<{ parts: SerialTableParts; seq: number }> {
  // Only the engine in use is loaded: pg costs this thread ~60 ms of module loading.
  if (load.engine === "postgres") {
    const { readPostgresTable } = await import("./postgres-table-read.ts");
    return readPostgresTable(load.database, load.schema, load.issuerId);
  }
  const { openSqliteSnapshot } = await import("./sqlite-table-read.ts");
  const snapshot = openSqliteSnapshot(load.database, load.issuerId);
  try {
    if (load.of === 1) return { parts: snapshot.read({ from: undefined, to: undefined }), seq: snapshot.seq };
    if (load.part === 0) {
      const split = snapshot.medianSerial();
      parentPort!.postMessage({ split });
      return { parts: snapshot.read({ from: undefined, to: split }), seq: snapshot.seq };
    }
    const split = await splitFromParent();
    // Fewer than two rows: the lower part has them all.
    const parts = split === undefined ? new SerialTableBuilder().parts() : snapshot.read({ from: split, to: undefined });
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
