import { Worker } from "node:worker_threads";
import { serialTableFromParts, type SerialTable, type SerialTableParts } from "../serial-table.ts";

/** Built from sources it runs .ts (type stripping); built into dist/ it runs the compiled .js. */
const WORKER = new URL(import.meta.url.endsWith(".ts") ? "./table-load-worker.ts" : "./table-load-worker.js", import.meta.url);

/** Where the rows are: the SQLite file, or the PostgreSQL URL and schema; and whose. */
export interface TableLoad {
  readonly engine: "sqlite" | "postgres";
  readonly database: string;
  readonly schema: string;
  readonly issuerId: number;
}

/**
 * Reads every row of one issuer on a thread of its own (table-load-worker.ts) over a connection of
 * its own, and resolves with the table and the change number it is complete as of. Measured with
 * 1M rows (bench/source-ready.ts): paging on the serving thread took 1.5 s (SQLite) and 3 s
 * (PostgreSQL), and left the drivers' per-row garbage in the serving process's heap. Rejects with
 * an Error carrying the engine's message when the load fails.
 */
export function loadTableInWorker(load: TableLoad): Promise<{ table: SerialTable; seq: number }> {
  return new Promise((resolve, reject) => {
    const worker = new Worker(WORKER, { workerData: load });
    let settled = false;
    worker.once("message", (message: { parts?: SerialTableParts; seq?: number; error?: { message: string } }) => {
      settled = true;
      if (message.parts !== undefined) resolve({ table: serialTableFromParts(message.parts), seq: message.seq ?? 0 });
      else reject(new Error(message.error?.message ?? "the store could not be read"));
    });
    worker.once("error", (error) => {
      if (!settled) reject(new Error(`loading failed: ${error.message}`, { cause: error }));
      settled = true;
    });
    worker.once("exit", (code) => {
      if (!settled) reject(new Error(`the loading thread exited with code ${code}`));
      settled = true;
    });
  });
}
