/**
 * One long-lived loading thread for the reloads of every index source in the process. A thread
 * started per reload cost ~0.13 s of CPU to boot (an isolate, Node, the parser's modules) before
 * reading a byte, as much as the reload itself once only changed blocks are parsed
 * (index-blocks.ts), and its boot work ran on V8's platform threads at the serving thread's
 * priority. A thread per source would cost ~15 MB each while idle. This one is started on the
 * first request, set to RELOAD_NICENESS once, and unref'd: it never keeps the process alive.
 */
import { Worker } from "node:worker_threads";
import { ConfigError } from "../../errors.ts";
import type { IndexBlocks } from "./index-blocks.ts";
import { INDEX_LOAD_WORKER, resultOf, type IndexLoadResult, type WorkerReply } from "./load-index-in-worker.ts";

/** What the long-lived worker is asked, one request at a time: a load, or (with `scan`) the blocks of a loaded file. */
export interface ReloadRequest {
  readonly id: number;
  readonly file: string;
  readonly previous: IndexBlocks | undefined;
  readonly scan?: { readonly signature: string; readonly duplicates: boolean };
}

export interface IndexReloadThread {
  /**
   * Loads `file`: only what changed since `previous` when that is enough (index-reload.ts
   * reloadIndex), else the whole file with its blocks. Calls queue.
   */
  load(file: string, previous: IndexBlocks | undefined): Promise<IndexLoadResult>;
  /**
   * The blocks of `file` for a table loaded from it without them (index-reload.ts scanIndex), or
   * undefined when its stat signature is not `signature` any more. Calls queue.
   */
  scan(file: string, signature: string, duplicates: boolean): Promise<IndexBlocks | undefined>;
  /** Stops the thread (a load in progress, and any queued, reject). */
  close(): Promise<void>;
}

let shared: { readonly thread: IndexReloadThread; readonly niceness: number; users: number } | undefined;

/**
 * A handle on the process's shared reload thread (at `niceness`; a handle asked with another
 * niceness gets a thread of its own). `close` releases the handle; the last one stops the thread.
 */
export function sharedIndexReloadThread(niceness: number): IndexReloadThread {
  if (shared === undefined || shared.niceness !== niceness) shared = { thread: indexReloadThread(niceness), niceness, users: 0 };
  const entry = shared;
  entry.users++;
  let released = false;
  return {
    load: (file, previous) => (released ? Promise.reject(new ConfigError("file", "the source is closed", { file })) : entry.thread.load(file, previous)),
    scan: (file, signature, duplicates) => (released ? Promise.reject(new ConfigError("file", "the source is closed", { file })) : entry.thread.scan(file, signature, duplicates)),
    async close() {
      if (released) return;
      released = true;
      if (--entry.users > 0) return;
      if (shared === entry) shared = undefined;
      await entry.thread.close();
    },
  };
}

/** A reload thread of its own (see sharedIndexReloadThread). */
export function indexReloadThread(niceness: number): IndexReloadThread {
  let worker: Worker | undefined;
  let nextId = 1;
  let pending: { id: number; file: string; resolve: (result: IndexLoadResult) => void; reject: (error: Error) => void } | undefined;

  const fail = (error: Error): void => {
    const waiting = pending;
    pending = undefined;
    worker = undefined;
    waiting?.reject(new ConfigError("file", `loading failed: ${error.message}`, { file: waiting.file, cause: error }));
  };
  const start = (): Worker => {
    const started = new Worker(INDEX_LOAD_WORKER, { workerData: { persistent: true, niceness } });
    started.unref();
    started.on("message", (message: WorkerReply & { id: number }) => {
      if (pending === undefined || message.id !== pending.id) return;
      const { resolve, reject, file } = pending;
      pending = undefined;
      try {
        resolve(resultOf(message, file));
      } catch (error) {
        reject(error as ConfigError);
      }
    });
    started.on("error", (error) => {
      if (worker === started) fail(error);
    });
    started.on("exit", (code) => {
      if (worker === started) fail(new Error(`the loading thread exited with code ${code}`));
    });
    return started;
  };

  const send = (request: Omit<ReloadRequest, "id">): Promise<IndexLoadResult> => {
    if (closed) return Promise.reject(new ConfigError("file", "the source is closed", { file: request.file }));
    worker ??= start();
    const id = nextId++;
    return new Promise((resolve, reject) => {
      pending = { id, file: request.file, resolve, reject };
      worker!.postMessage({ ...request, id } satisfies ReloadRequest);
    });
  };
  // One request at a time: each waits for the one before it to settle, however it settled.
  let queue: Promise<unknown> = Promise.resolve();
  const enqueue = (request: Omit<ReloadRequest, "id">): Promise<IndexLoadResult> => {
    const next = queue.then(
      () => send(request),
      () => send(request),
    );
    queue = next.catch(() => {});
    return next;
  };
  let closed = false;

  return {
    load: (file, previous) => enqueue({ file, previous }),
    async scan(file, signature, duplicates) {
      const result = await enqueue({ file, previous: undefined, scan: { signature, duplicates } });
      return result.kind === "scanned" ? result.blocks : undefined;
    },
    async close() {
      closed = true;
      const stopping = worker;
      worker = undefined;
      const waiting = pending;
      pending = undefined;
      waiting?.reject(new ConfigError("file", "the source was closed during a reload", { file: waiting.file }));
      await stopping?.terminate();
    },
  };
}
