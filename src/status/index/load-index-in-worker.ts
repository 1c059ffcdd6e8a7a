import { Worker } from "node:worker_threads";
import { ConfigError } from "../../errors.ts";
import type { IndexBlocks } from "./index-blocks.ts";
import type { IndexReload } from "./index-reload.ts";
import { serialTableFromParts, type SerialTable, type SerialTableParts } from "../table/serial-table.ts";

/** Built from sources it runs .ts (type stripping); built into dist/ it runs the compiled .js. */
export const INDEX_LOAD_WORKER = new URL(import.meta.url.endsWith(".ts") ? "./index-load-worker.ts" : "./index-load-worker.js", import.meta.url);

/** How an index is loaded. */
export interface IndexLoadOptions {
  /**
   * Niceness (0-19) of the loading thread, Linux only (elsewhere it runs at the process's).
   * For reloads under load: a thread at the serving thread's priority took a core from it.
   */
  readonly niceness?: number;
}

/**
 * The niceness of reloads. Measured with a 1M-line index rewritten every second under wrk load on
 * 2 cores (bench/source-ready.ts): see README.md "Big revocation data" for p99 and reload time.
 */
export const RELOAD_NICENESS = 10;

/** A whole table (with its blocks, when asked), the rows of the changed blocks only, or word that nothing changed. */
export type IndexLoadResult =
  | { readonly kind: "full"; readonly table: SerialTable; readonly blocks: IndexBlocks | undefined; readonly duplicates: boolean }
  | { readonly kind: "blocks"; readonly changed: SerialTable; readonly appended: SerialTable; readonly blocks: IndexBlocks; readonly lines: number }
  | { readonly kind: "unchanged" }
  | { readonly kind: "scanned"; readonly blocks: IndexBlocks | undefined };

/** A first load: the table, and whether the file has a serial on two lines (IndexBlocks.duplicates). */
export interface LoadedIndex {
  readonly table: SerialTable;
  readonly duplicates: boolean;
}

/**
 * `loadIndexInWorker` for a whole table, without its blocks: scanning for them would add ~0.25 s
 * to the time to ready with 1M lines; the reload thread scans after ready (index-reload-thread.ts).
 */
export async function loadIndex(file: string, options: Pick<IndexLoadOptions, "niceness"> = {}): Promise<LoadedIndex> {
  const result = await loadIndexInWorker(file, options);
  if (result.kind !== "full") throw new Error("a load without previous blocks parses the whole file");
  return { table: result.table, duplicates: result.duplicates };
}

/**
 * Reads and parses `file` (index.txt) on a worker thread and resolves with its table. Measured with a
 * 1M-line index under wrk load (bench/source-ready.ts): parsing in slices on the serving thread took
 * p99 from 3.5 ms to 87 ms while the file was rewritten every second, and the parser's memory and
 * garbage stayed in the serving process's heap until a later GC; here they stay in the worker and
 * go with it. Rejects with ConfigError (field "file", file set) as parseIndex does.
 */
export async function loadIndexInWorker(file: string, options: IndexLoadOptions = {}): Promise<IndexLoadResult> {
  return fromWorkerDone(await runWorker({ file, niceness: options.niceness }));
}

/** What a worker's reply carries, its tables rebuilt over the transferred arrays; throws the ConfigError it reports instead. */
export function resultOf(message: WorkerReply, file: string): IndexLoadResult {
  return fromWorkerDone(doneOf(message, file));
}

/**
 * A whole load's arrays rather than its table, in SharedArrayBuffers, for a table that several
 * threads of this process share (shared-index-loads.ts). Rejects as loadIndexInWorker does.
 */
export async function loadIndexParts(file: string): Promise<{ readonly parts: SerialTableParts; readonly duplicates: boolean }> {
  const done = await runWorker({ file, shared: true });
  if (done.kind !== "full") throw new Error("a load without previous blocks parses the whole file");
  return { parts: done.parts, duplicates: done.parts.duplicates > 0 };
}

function doneOf(message: WorkerReply, file: string): WorkerDone {
  if (message.done === undefined) throw new ConfigError(message.error?.field ?? "file", message.error?.message ?? "index load failed", { file: message.error?.file ?? file });
  return message.done;
}

function fromWorkerDone(done: WorkerDone): IndexLoadResult {
  switch (done.kind) {
    case "unchanged":
    case "scanned":
      return done;
    case "full":
      return { kind: "full", table: serialTableFromParts(done.parts), blocks: done.blocks, duplicates: done.parts.duplicates > 0 };
    case "blocks":
      return { kind: "blocks", changed: serialTableFromParts(done.changed), appended: serialTableFromParts(done.appended), blocks: done.blocks, lines: done.lines };
  }
}

/** What index-load-worker.ts is started with for one load (reloads: index-reload-thread.ts). */
export interface IndexLoadWork {
  readonly file: string;
  readonly niceness?: number | undefined;
  /** Build the table in SharedArrayBuffers (loadIndexParts). */
  readonly shared?: boolean | undefined;
}

/** What the worker posts when it succeeds (blocks undefined: a first load, which does not remember them). */
export type WorkerDone =
  | IndexReload
  | { readonly kind: "full"; readonly parts: SerialTableParts; readonly blocks: undefined }
  /** The answer to a scan (index-reload-thread.ts): undefined when the file changed since its table was loaded. */
  | { readonly kind: "scanned"; readonly blocks: IndexBlocks | undefined };

/** A worker's message: what it loaded, or what was wrong. */
export interface WorkerReply {
  readonly done?: WorkerDone;
  readonly error?: { readonly message: string; readonly field?: string | undefined; readonly file?: string | undefined };
}

function runWorker(work: IndexLoadWork): Promise<WorkerDone> {
  const { file } = work;
  return new Promise((resolve, reject) => {
    const worker = new Worker(INDEX_LOAD_WORKER, { workerData: work });
    let settled = false;
    worker.once("message", (message: WorkerReply) => {
      settled = true;
      try {
        resolve(doneOf(message, file));
      } catch (error) {
        reject(error as ConfigError);
      }
    });
    worker.once("error", (error) => {
      if (!settled) reject(new ConfigError("file", `loading failed: ${error.message}`, { file, cause: error }));
      settled = true;
    });
    worker.once("exit", (code) => {
      if (!settled) reject(new ConfigError("file", `the loading thread exited with code ${code}`, { file }));
      settled = true;
    });
  });
}
