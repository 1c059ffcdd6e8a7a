/** A worker for thread-priority.test.ts: sets its own niceness to workerData, posts what it reads back. */
import { getPriority } from "node:os";
import { parentPort, workerData } from "node:worker_threads";
import { setThisThreadNiceness, thisThreadId } from "../thread-priority.ts";

const set = setThisThreadNiceness(workerData as number);
const tid = thisThreadId();
parentPort!.postMessage({ set, tid, niceness: tid === undefined ? undefined : getPriority(tid) });
