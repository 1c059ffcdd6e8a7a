/**
 * The worker thread that reads and parses an index.txt for `loadIndexInWorker`: the file's chunks,
 * the parse and its garbage live here, and only the finished table's arrays cross to the serving
 * thread, transferred without a copy. Posts `{ parts }` or `{ error: { message, field, file } }`.
 */
import { parentPort, workerData } from "node:worker_threads";
import { ConfigError } from "../errors.ts";
import { readIndexFile } from "./read-index-file.ts";
import { transferables } from "./serial-table.ts";

const { file } = workerData as { file: string };
try {
  const parts = readIndexFile(file);
  parentPort!.postMessage({ parts }, transferables(parts));
} catch (error) {
  const config = error instanceof ConfigError;
  parentPort!.postMessage({ error: { message: error instanceof Error ? error.message : String(error), field: config ? error.field : undefined, file: config ? error.file : file } });
}
