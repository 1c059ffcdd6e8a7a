import assert from "node:assert/strict";
import { getPriority } from "node:os";
import { once } from "node:events";
import { describe, test } from "node:test";
import { Worker } from "node:worker_threads";
import { thisThreadId } from "./thread-priority.ts";

describe("setThisThreadNiceness", { skip: process.platform !== "linux" && "threads have ids of their own on Linux only" }, () => {
  test("lowers the calling thread's priority and leaves the process's main thread alone", async () => {
    const before = getPriority();
    const worker = new Worker(new URL("./test-support/niceness-worker.ts", import.meta.url), { workerData: Math.min(19, before + 7) });
    // Both listeners first: a worker this short may exit in the same turn as its message arrives.
    const exited = once(worker, "exit");
    const [reply] = (await once(worker, "message")) as [{ set: boolean; tid: number; niceness: number }];
    await exited;
    assert.equal(reply.set, true);
    assert.notEqual(reply.tid, process.pid, "a thread id of its own");
    assert.equal(reply.niceness, Math.min(19, before + 7));
    assert.equal(getPriority(), before, "the main thread is untouched");
  });

  test("names the main thread by the process id", () => {
    assert.equal(thisThreadId(), process.pid);
  });
});
