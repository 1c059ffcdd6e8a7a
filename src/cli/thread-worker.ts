/**
 * A worker of `vouch serve --workers N --worker-threads`: serve-worker.ts on a thread of this process
 * instead of in a process of its own, behind the same surface the supervisor uses for a forked
 * ChildProcess (send, message and exit events, kill), so one supervisor drives either kind.
 *
 * Threads keep one process for the operator (one pid, one cgroup) and every core busy. The price is
 * isolation: a native fault (a PKCS#11 module's, say) ends the whole process, where a process worker
 * takes only itself down.
 */
import { EventEmitter } from "node:events";
import { Worker } from "node:worker_threads";
import { workerThreadLimits } from "./worker-heap.ts";

/** What the supervisor and the ask channel use of a worker; a ChildProcess has all of it. */
export interface WorkerHandle {
  readonly pid?: number | undefined;
  readonly connected: boolean;
  readonly exitCode: number | null;
  readonly signalCode: NodeJS.Signals | null;
  send(message: unknown, callback: (error: Error | null) => void): boolean;
  on(event: "message", listener: (message: unknown) => void): this;
  off(event: "message", listener: (message: unknown) => void): this;
  once(event: "exit", listener: (code: number | null, signal: NodeJS.Signals | null) => void): this;
  off(event: "exit", listener: (code: number | null, signal: NodeJS.Signals | null) => void): this;
  kill(signal?: NodeJS.Signals): boolean;
}

class ThreadWorker extends EventEmitter implements WorkerHandle {
  readonly pid = process.pid;
  readonly signalCode = null;
  exitCode: number | null = null;
  readonly #thread: Worker;

  constructor(entry: URL) {
    super();
    this.#thread = new Worker(entry, { resourceLimits: workerThreadLimits() });
    this.#thread.on("message", (message: unknown) => this.emit("message", message));
    // An exception nothing caught ends the thread; its "exit" (code 1) follows and is handled there.
    this.#thread.on("error", () => {});
    this.#thread.on("exit", (code: number) => {
      this.exitCode = code;
      this.emit("exit", code, null);
    });
  }

  get connected(): boolean {
    return this.exitCode === null;
  }

  send(message: unknown, callback: (error: Error | null) => void): boolean {
    try {
      this.#thread.postMessage(message);
    } catch (error) {
      queueMicrotask(() => callback(error as Error));
      return false;
    }
    queueMicrotask(() => callback(null));
    return true;
  }

  /** Ends the thread at once (its requests in flight are lost, as a killed process's would be). */
  kill(): boolean {
    void this.#thread.terminate();
    return true;
  }
}

/** Starts `entry` on a new thread of this process. */
export function startThreadWorker(entry: URL): WorkerHandle {
  return new ThreadWorker(entry);
}
