/**
 * A background thread that loads revocation data: the one way status/ runs work off the serving
 * thread. Reading and parsing a big file or table there blocked the event loop and left the
 * parse's garbage in the serving heap until a later GC (measured with 1M entries, see
 * bench/source-ready.ts: index p99 3.5 → 87 ms while reloading, in slices); on a thread of its own
 * the work and its garbage go with the thread, and only the finished table's arrays cross back.
 *
 * One message protocol for every job (loading-jobs.ts): the serving thread posts
 * `{ id, job, input }` (with a transfer list), the thread answers `{ id, output }` or
 * `{ id, error: { message, field?, file?, fetch? } }` (`fetch`: a FetchError, a fetch that brought no CRL). Jobs run one at a time, in the order asked. A job that
 * needs a second thread (a CRL's two shares, SQLite's two halves) is given a MessagePort to it in
 * its input.
 */
import type { Transferable } from "node:worker_threads";
import { Worker } from "node:worker_threads";
import { ConfigError } from "../errors.ts";
import { FetchError } from "./crl/fetch/fetch-types.ts";
import { JOBS, type JobDone, type JobName, type Jobs } from "./loading-jobs.ts";

/** Built from sources it runs .ts (type stripping); built into dist/ it runs the compiled .js. */
const ENTRY = new URL(import.meta.url.endsWith(".ts") ? "./loading-thread-worker.ts" : "./loading-thread-worker.js", import.meta.url);

/** What the serving thread asks. */
export interface JobRequest<J extends JobName = JobName> {
  readonly id: number;
  readonly job: J;
  readonly input: Jobs[J]["input"];
}

/** What the loading thread answers. A failure keeps a ConfigError's field and file. */
export type JobReply =
  | { readonly id: number; readonly output: unknown; readonly error?: undefined }
  | { readonly id: number; readonly error: { readonly message: string; readonly field?: string | undefined; readonly file?: string | undefined; readonly fetch?: true } };

/** How the thread is started. */
export interface LoadingThreadOptions {
  /**
   * Niceness (0-19) of the thread, Linux only (elsewhere it runs at the process's). For reloads
   * under load: a thread at the serving thread's priority took a core from answering.
   */
  readonly niceness?: number;
}

/** A loading thread; see the file comment. */
export interface LoadingThread {
  /**
   * Runs `job` on the thread (started now if it is not running) and resolves with its output.
   * Rejects with a ConfigError when the job reports one (field and file kept), else with an Error
   * carrying the job's message; also when the thread fails, exits or is closed meanwhile.
   */
  run<J extends JobName>(job: J, input: Jobs[J]["input"], transfer?: readonly Transferable[]): Promise<Jobs[J]["output"]>;
  /** Stops the thread; a job in progress, and any queued, reject. Later runs reject. */
  close(): Promise<void>;
}

/**
 * A loading thread, started on the first run. While no job is waiting it is unref'd, so that a
 * long-lived one (reloads) never keeps the process alive; a thread that ended (a crash) is started
 * again by the next run.
 */
export function loadingThread(options: LoadingThreadOptions = {}): LoadingThread {
  let worker: Worker | undefined;
  let nextId = 1;
  let closed = false;
  let pending: { readonly id: number; resolve(output: unknown): void; reject(error: Error): void } | undefined;

  const settle = (settler: (waiting: NonNullable<typeof pending>) => void): void => {
    const waiting = pending;
    pending = undefined;
    worker?.unref();
    if (waiting !== undefined) settler(waiting);
  };
  const start = (): Worker => {
    const started = new Worker(ENTRY, { workerData: { niceness: options.niceness } });
    started.on("message", (reply: JobReply) => {
      if (reply.id !== pending?.id) return;
      settle((waiting) => (reply.error === undefined ? waiting.resolve(reply.output) : waiting.reject(jobError(reply.error))));
    });
    const lost = (error: Error): void => {
      if (worker !== started) return;
      worker = undefined;
      settle((waiting) => waiting.reject(error));
    };
    started.on("error", (error) => lost(new Error(`loading failed: ${error.message}`, { cause: error })));
    started.on("exit", (code) => lost(new Error(`the loading thread exited with code ${code}`)));
    return started;
  };
  const send = (job: JobName, input: unknown, transfer: readonly Transferable[]): Promise<unknown> => {
    if (closed) return Promise.reject(new Error("the loading thread is closed"));
    worker ??= start();
    worker.ref();
    const id = nextId++;
    const running = worker;
    return new Promise((resolve, reject) => {
      pending = { id, resolve, reject };
      running.postMessage({ id, job, input } as JobRequest, [...transfer]);
    });
  };
  // One job at a time: each waits for the one before it to settle, however it settled.
  let queue: Promise<unknown> = Promise.resolve();

  return {
    run<J extends JobName>(job: J, input: Jobs[J]["input"], transfer: readonly Transferable[] = []): Promise<Jobs[J]["output"]> {
      const next = queue.then(
        () => send(job, input, transfer),
        () => send(job, input, transfer),
      );
      queue = next.catch(() => {});
      return next as Promise<Jobs[J]["output"]>;
    },
    async close() {
      closed = true;
      const stopping = worker;
      worker = undefined;
      settle((waiting) => waiting.reject(new Error("the loading thread was closed")));
      await stopping?.terminate();
    },
  };
}

function jobError(error: Extract<JobReply, { error: object }>["error"]): Error {
  if (error.fetch === true) return new FetchError(error.message);
  return error.field === undefined ? new Error(error.message) : new ConfigError(error.field, error.message, { file: error.file });
}

/**
 * Runs one job on a thread of its own, which ends with it: first loads (which run side by side), and
 * jobs that make or read whole tables. A thread that lives on keeps the tables it made until its
 * next full GC (they are in shared memory, freed once no thread refers to them): measured with a
 * 1M-line index, six whole reloads on the long-lived reload thread held ~210 MB more for about a minute.
 */
export async function runOnItsOwnThread<J extends JobName>(job: J, input: Jobs[J]["input"], options: LoadingThreadOptions = {}): Promise<Jobs[J]["output"]> {
  const thread = loadingThread(options);
  try {
    return await thread.run(job, input);
  } finally {
    await thread.close();
  }
}

/**
 * Runs one job on this thread, for inputs so small that a thread would cost more memory than the
 * work it takes off this one (see index-loader.ts). Throws what the job throws.
 */
export async function runHere<J extends JobName>(job: J, input: Jobs[J]["input"]): Promise<Jobs[J]["output"]> {
  const run = (await JOBS[job]()) as (input: Jobs[J]["input"]) => JobDone<Jobs[J]["output"]> | Promise<JobDone<Jobs[J]["output"]>>;
  return (await run(input)).output;
}
