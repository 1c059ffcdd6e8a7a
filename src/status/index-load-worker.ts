/**
 * The worker thread that reads and parses an index.txt for `loadIndexInWorker`: the file's chunks,
 * the parse and its garbage live here, and only the finished table's arrays cross to the serving
 * thread, transferred without a copy. Posts `{ done: WorkerDone }` or `{ error: { message, field, file } }`.
 */
import { createHash } from "node:crypto";
import { parentPort, workerData } from "node:worker_threads";
import { ConfigError } from "../errors.ts";
import type { IndexLoadWork, WorkerDone } from "./load-index-in-worker.ts";
import { fileDigest, readIndexFile } from "./read-index-file.ts";
import { transferables } from "./serial-table.ts";
import { setThisThreadNiceness } from "./thread-priority.ts";

const { file, niceness, digest, unlessDigest } = workerData as IndexLoadWork;
try {
  if (niceness !== undefined) setThisThreadNiceness(niceness);
  if (unlessDigest !== undefined && fileDigest(file) === unlessDigest) {
    parentPort!.postMessage({ done: { digest: unlessDigest } satisfies WorkerDone });
  } else {
    // The digest of the bytes parsed, not of the first look: the file may have changed in between.
    const hash = digest === true || unlessDigest !== undefined ? createHash("sha256") : undefined;
    const parts = readIndexFile(file, { onRead: hash === undefined ? undefined : (bytes) => hash.update(bytes) });
    parentPort!.postMessage({ done: { parts, digest: hash?.digest("hex") } satisfies WorkerDone }, transferables(parts));
  }
} catch (error) {
  const config = error instanceof ConfigError;
  parentPort!.postMessage({ error: { message: error instanceof Error ? error.message : String(error), field: config ? error.field : undefined, file: config ? error.file : file } });
}
