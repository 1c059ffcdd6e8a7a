/**
 * Reads every row of one issuer on loading threads of their own (sql-jobs.ts), over connections of
 * their own, into a table complete as of a change number (the oldest of the threads' snapshots).
 * Measured with 1M rows (bench/source-ready.ts, a quiet machine): paging on the serving thread took
 * 2.1 s (SQLite) and 3.6 s (PostgreSQL) to ready, and left the drivers' per-row garbage in the
 * serving process's heap. SQLite is read by two threads, each loading half of the serials (ready in
 * 1.6-1.8 s against 2.6 s for one thread: SQLite's own work and building the table are shared);
 * PostgreSQL by one (1.55 s against 2.0 s for two: its server already produces the rows on another
 * core while the thread reads them).
 */
import { statSync } from "node:fs";
import { MessageChannel } from "node:worker_threads";
import { loadingThread, runHere, type LoadingThread } from "../loading-thread.ts";
import { joinedTable } from "../table/joined-table.ts";
import { serialTableFromParts, type SerialTable } from "../table/serial-table.ts";
import type { TableLocation } from "./sql-jobs.ts";

export type { TableLocation } from "./sql-jobs.ts";

/**
 * An SQLite store up to this size (file and write-ahead log) is read on the serving thread, in one
 * part: each loading thread costs ~15 MB of resident memory for the life of the process
 * (status/index/parsed-here.ts), which a store of a few hundred rows (`vouch demo`'s: 28 KiB) does not earn.
 */
const READ_HERE_BYTES = 128 * 1024;

/** The bytes of an SQLite database and its write-ahead log; Infinity when the database cannot be read (a thread reports why). */
function sqliteBytes(database: string): number {
  const size = (file: string): number | undefined => {
    try {
      return statSync(file).size;
    } catch {
      return undefined;
    }
  };
  const main = size(database);
  return main === undefined ? Infinity : main + (size(`${database}-wal`) ?? 0);
}

/** Runs a part here instead of on a thread (see READ_HERE_BYTES). */
const THIS_THREAD: LoadingThread = {
  run: (job, input) => runHere(job, input),
  close: async () => {},
};

/** Loading threads started ahead of the load they will run. */
export interface SqlLoad {
  /** Loads the rows of `issuerId` (once per SqlLoad). Rejects with an Error carrying the engine's message when a part fails (the others are stopped). */
  load(issuerId: number): Promise<{ table: SerialTable; seq: number }>;
  /** Stops the threads (a load that will not be used, or one no longer wanted). */
  cancel(): Promise<void>;
}

/**
 * Starts the loading threads for `location` before the issuer is known: they load their modules
 * (pg: ~60 ms) and, on PostgreSQL, connect while the serving thread opens and migrates the store.
 */
export function startSqlLoad(location: TableLocation): SqlLoad {
  const here = location.engine === "sqlite" && sqliteBytes(location.database) <= READ_HERE_BYTES;
  const of = location.engine === "sqlite" && !here ? 2 : 1;
  const peers = of === 2 ? new MessageChannel() : undefined;
  const parts = Array.from({ length: of }, (_, part) => {
    const thread = here ? THIS_THREAD : loadingThread();
    const start = new MessageChannel();
    const peer = part === 0 ? peers?.port1 : peers?.port2;
    const result = thread.run("sql.part", { ...location, part, of, start: start.port2, peer }, peer === undefined ? [start.port2] : [start.port2, peer]);
    // Handled from the start: a load cancelled before it ran is no unhandled rejection.
    result.catch(() => {});
    return { thread, start: start.port1, result };
  });
  const cancel = async (): Promise<void> => {
    for (const part of parts) part.start.close();
    await Promise.all(parts.map((part) => part.thread.close()));
  };
  return {
    async load(issuerId) {
      for (const part of parts) part.start.postMessage({ issuerId });
      try {
        const halves = await Promise.all(parts.map((part) => part.result));
        return { table: joinedTable(halves.map((half) => serialTableFromParts(half.parts))), seq: Math.min(...halves.map((half) => half.seq)) };
      } finally {
        // Done, or one part failed: the other would never be used, and must not go on loading.
        await cancel();
      }
    },
    cancel,
  };
}

/** Loads the rows of one issuer at `location` on threads of their own (see the file comment). */
export function loadSqlTable(load: TableLocation & { readonly issuerId: number }): Promise<{ table: SerialTable; seq: number }> {
  return startSqlLoad(load).load(load.issuerId);
}
