/**
 * The worker thread that reads and parses an index.txt for `loadIndexInWorker`: the file's chunks,
 * the parse and its garbage live here, and only the finished table's arrays cross to the serving
 * thread, transferred without a copy. Posts `{ done: WorkerDone }` or `{ error: { message, field, file } }`.
 */
import { parentPort, workerData } from "node:worker_threads";
import { ConfigError } from "../../errors.ts";
import { loadWholeIndex, reloadIndex, scanIndex } from "./index-reload.ts";
import type { ReloadRequest } from "./index-reload-thread.ts";
import type { IndexLoadWork, WorkerDone, WorkerReply } from "./load-index-in-worker.ts";
import { readIndexFile } from "./read-index-file.ts";
import { transferables } from "../table/serial-table.ts";
import { setThisThreadNiceness } from "../thread-priority.ts";

/** The reply to post for `work`, and what to transfer with it. */
function answer(file: string, work: () => WorkerDone): { reply: WorkerReply; transfer: ArrayBuffer[] } {
  try {
    const done = work();
    const transfer = done.kind === "unchanged" || done.kind === "scanned" ? [] : done.kind === "blocks" ? [...transferables(done.changed), ...transferables(done.appended)] : transferables(done.parts);
    return { reply: { done }, transfer };
  } catch (error) {
    const config = error instanceof ConfigError;
    return { reply: { error: { message: error instanceof Error ? error.message : String(error), field: config ? error.field : undefined, file: config ? error.file : file } }, transfer: [] };
  }
}

const work = workerData as IndexLoadWork | { persistent: true; niceness: number };
if (work.niceness !== undefined) setThisThreadNiceness(work.niceness);
if ("persistent" in work) {
  // index-reload-thread.ts: requests one at a time, for as long as the source is open.
  parentPort!.on("message", (request: ReloadRequest) => {
    const { file, previous, scan } = request;
    const { reply, transfer } = answer(file, () =>
      scan !== undefined ? { kind: "scanned", blocks: scanIndex(file, scan.signature, scan.duplicates) } : previous !== undefined ? reloadIndex(file, previous) : loadWholeIndex(file),
    );
    parentPort!.postMessage({ ...reply, id: request.id }, transfer);
  });
} else {
  // A first load: the whole table, without its blocks (the reload thread scans them after ready).
  const { reply, transfer } = answer(work.file, () => ({ kind: "full", parts: readIndexFile(work.file, { shared: work.shared === true }), blocks: undefined }));
  parentPort!.postMessage(reply, transfer);
}
