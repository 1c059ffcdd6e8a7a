import { Worker } from "node:worker_threads";
import { ConfigError } from "../errors.ts";
import { serialTableFromParts, type SerialTable, type SerialTableParts } from "./serial-table.ts";

/** Built from sources it runs .ts (type stripping); built into dist/ it runs the compiled .js. */
const WORKER = new URL(import.meta.url.endsWith(".ts") ? "./index-load-worker.ts" : "./index-load-worker.js", import.meta.url);

/**
 * Reads and parses `file` (index.txt) on a worker thread and resolves with its table. Measured with a
 * 1M-line index under wrk load (bench/source-ready.ts): parsing in slices on the serving thread took
 * p99 from 3.5 ms to 87 ms while the file was rewritten every second, and the 100 MB file buffer and
 * the parser's garbage stayed in the serving process's heap until a later GC; here they stay in the
 * worker and go with it. Rejects with ConfigError (field "file", file set) as parseIndex does.
 */
export function loadIndexInWorker(file: string): Promise<SerialTable> {
  return new Promise((resolve, reject) => {
    const worker = new Worker(WORKER, { workerData: { file } });
    let settled = false;
    worker.once("message", (message: { parts?: SerialTableParts; error?: { message: string; field?: string; file?: string } }) => {
      settled = true;
      if (message.parts !== undefined) resolve(serialTableFromParts(message.parts));
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
