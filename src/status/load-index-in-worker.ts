import { Worker } from "node:worker_threads";
import { ConfigError } from "../errors.ts";
import { serialTableFromParts, type SerialTable, type SerialTableParts } from "./serial-table.ts";

/** Built from sources it runs .ts (type stripping); built into dist/ it runs the compiled .js. */
const WORKER = new URL(import.meta.url.endsWith(".ts") ? "./index-load-worker.ts" : "./index-load-worker.js", import.meta.url);

/** How an index is loaded. */
export interface IndexLoadOptions {
  /**
   * Niceness (0-19) of the loading thread, Linux only (elsewhere it runs at the process's).
   * For reloads under load: a thread at the serving thread's priority took a core from it.
   */
  readonly niceness?: number;
  /** Also return the SHA-256 of the bytes parsed. */
  readonly digest?: boolean;
  /**
   * Hash the file first and parse it only when its SHA-256 differs from this one, else resolve
   * `{ unchanged: true }`: a rewrite with the same content (a backup restored, a deployment re-run)
   * then costs a read and a hash, ~0.15 s for 1M lines instead of a ~0.9 s parse.
   */
  readonly unlessDigest?: string | undefined;
}

/**
 * The niceness of reloads. Measured with a 1M-line index rewritten every second under wrk load on
 * 2 cores (bench/source-ready.ts): see README.md "Big revocation data" for p99 and reload time.
 */
export const RELOAD_NICENESS = 10;

/** A loaded table (with the digest of what was parsed, when asked), or word that the content is the same. */
export type IndexLoadResult = { readonly table: SerialTable; readonly digest: string | undefined } | { readonly unchanged: true };

/** `loadIndexInWorker` for a table, always parsed. */
export async function loadIndexTable(file: string, options: Pick<IndexLoadOptions, "niceness"> = {}): Promise<SerialTable> {
  const result = await loadIndexInWorker(file, options);
  if ("unchanged" in result) throw new Error("a load without unlessDigest always parses");
  return result.table;
}

/**
 * Reads and parses `file` (index.txt) on a worker thread and resolves with its table. Measured with a
 * 1M-line index under wrk load (bench/source-ready.ts): parsing in slices on the serving thread took
 * p99 from 3.5 ms to 87 ms while the file was rewritten every second, and the parser's memory and
 * garbage stayed in the serving process's heap until a later GC; here they stay in the worker and
 * go with it. Rejects with ConfigError (field "file", file set) as parseIndex does.
 */
export async function loadIndexInWorker(file: string, options: IndexLoadOptions = {}): Promise<IndexLoadResult> {
  const done = await runWorker({ file, niceness: options.niceness, digest: options.digest, unlessDigest: options.unlessDigest });
  return done.parts === undefined ? { unchanged: true } : { table: serialTableFromParts(done.parts), digest: done.digest };
}

/** What index-load-worker.ts is started with. */
export interface IndexLoadWork {
  readonly file: string;
  readonly niceness?: number | undefined;
  readonly digest?: boolean | undefined;
  readonly unlessDigest?: string | undefined;
}

/** What the worker posts when it succeeds: no parts when the content matched `unlessDigest`. */
export interface WorkerDone {
  readonly parts?: SerialTableParts | undefined;
  readonly digest?: string | undefined;
}

function runWorker(work: IndexLoadWork): Promise<WorkerDone> {
  const { file } = work;
  return new Promise((resolve, reject) => {
    const worker = new Worker(WORKER, { workerData: work });
    let settled = false;
    worker.once("message", (message: { done?: WorkerDone; error?: { message: string; field?: string; file?: string } }) => {
      settled = true;
      if (message.done !== undefined) resolve(message.done);
      else reject(new ConfigError(message.error?.field ?? "file", message.error?.message ?? "index load failed", { file: message.error?.file ?? file }));
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
