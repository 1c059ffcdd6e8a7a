import { Worker } from "node:worker_threads";
import { joinedTable } from "../table/joined-table.ts";
import { serialTableFromParts, type SerialTable, type SerialTableParts } from "../table/serial-table.ts";

/** Built from sources it runs .ts (type stripping); built into dist/ it runs the compiled .js. */
const WORKER = new URL(import.meta.url.endsWith(".ts") ? "./table-load-worker.ts" : "./table-load-worker.js", import.meta.url);

/** Where the rows are: the SQLite file, or the PostgreSQL URL and schema. */
export interface TableLocation {
  readonly engine: "sqlite" | "postgres";
  readonly database: string;
  readonly schema: string;
}

/** Where the rows are, and whose. */
export interface TableLoad extends TableLocation {
  readonly issuerId: number;
}

/** What one loading thread loads: part `part` of `of` of the issuer's rows (table-load-worker.ts). */
export interface PartLoad extends TableLocation {
  readonly part: number;
  readonly of: 1 | 2;
}

type PartMessage = { split: Uint8Array | undefined; rows: number } | { parts: SerialTableParts; seq: number } | { error: { message: string } };

/** Loading threads started ahead of the load they will run. */
export interface TableLoader {
  /** Loads the rows of `issuerId` (once per loader); see loadTableInWorker. */
  load(issuerId: number): Promise<{ table: SerialTable; seq: number }>;
  /** Stops the threads (a loader that will not be used, or one whose load is no longer wanted). */
  cancel(): Promise<void>;
}

/**
 * Starts the loading threads for `location` before the issuer is known: they load their modules
 * (pg: ~60 ms) and, on PostgreSQL, connect while the serving thread opens and migrates the store.
 */
export function startTableLoad(location: TableLocation): TableLoader {
  const of = location.engine === "sqlite" ? 2 : 1;
  const workers = Array.from({ length: of }, (_, part) => new Worker(WORKER, { workerData: { ...location, part, of } satisfies PartLoad }));
  const results = workers.map(
    (worker) =>
      new Promise<{ table: SerialTable; seq: number }>((resolve, reject) => {
        let settled = false;
        worker.on("message", (message: PartMessage) => {
          if ("split" in message) {
            // The upper half starts at the lower half's median (SQLite).
            workers[1]?.postMessage({ split: message.split, rows: message.rows });
            return;
          }
          settled = true;
          if ("parts" in message) resolve({ table: serialTableFromParts(message.parts), seq: message.seq });
          else reject(new Error(message.error.message));
        });
        worker.once("error", (error) => {
          if (!settled) reject(new Error(`loading failed: ${error.message}`, { cause: error }));
          settled = true;
        });
        worker.once("exit", (code) => {
          if (!settled) reject(new Error(`the loading thread exited with code ${code}`));
          settled = true;
        });
      }),
  );
  // Handled from the start: a loader cancelled before its load is no unhandled rejection.
  for (const result of results) result.catch(() => {});
  const cancel = async (): Promise<void> => {
    await Promise.all(workers.map((worker) => worker.terminate()));
  };
  return {
    async load(issuerId) {
      for (const worker of workers) worker.postMessage({ issuerId });
      try {
        const halves = await Promise.all(results);
        return { table: joinedTable(halves.map((half) => half.table)), seq: Math.min(...halves.map((half) => half.seq)) };
      } catch (error) {
        // The other half would never be used; one failing part must not leave a thread loading.
        await cancel();
        throw error;
      }
    },
    cancel,
  };
}

/**
 * Reads every row of one issuer on threads of their own (table-load-worker.ts), over connections of
 * their own, and resolves with the table and the change number it is complete as of (the oldest of
 * the threads' snapshots). Measured with 1M rows (bench/source-ready.ts, a quiet machine): paging on
 * the serving thread took 2.1 s (SQLite) and 3.6 s (PostgreSQL) to ready, and left the drivers'
 * per-row garbage in the serving process's heap. SQLite is read by two threads, each loading half
 * of the serials (ready in 1.6-1.8 s against 2.6 s for one thread: SQLite's own work and building
 * the table are shared); PostgreSQL by one (1.55 s against 2.0 s for two: its server already
 * produces the rows on another core while the thread reads them). Rejects with an Error carrying
 * the engine's message when a part fails (the others are stopped).
 */
export function loadTableInWorker(load: TableLoad): Promise<{ table: SerialTable; seq: number }> {
  return startTableLoad(load).load(load.issuerId);
}
