/**
 * A worker's line to its supervisor, whichever kind of worker it is: a process forked by the
 * supervisor (IPC on the process) or a thread of the supervisor's own process (`--worker-threads`,
 * the thread's parent port). serve-worker.ts and the ask channel speak through it.
 */
import { isMainThread, parentPort } from "node:worker_threads";

export interface SupervisorLink {
  /** Sends `message` (structured clone); dropped when the supervisor is gone. */
  send(message: unknown): void;
  onMessage(listener: (message: unknown) => void): void;
  /** The supervisor went away (a process's IPC closed). A thread's supervisor cannot go without it. */
  onGone(listener: () => void): void;
  /** Closes the line from this side (a process worker that failed to start, before it exits). */
  leave(): void;
}

function processLink(): SupervisorLink | undefined {
  if (process.send === undefined) return undefined;
  return {
    send: (message) => {
      if (process.connected) process.send!(message, undefined, undefined, () => {});
    },
    onMessage: (listener) => void process.on("message", listener),
    onGone: (listener) => void process.on("disconnect", listener),
    leave: () => {
      if (process.connected) process.disconnect();
    },
  };
}

function threadLink(): SupervisorLink | undefined {
  const port = parentPort;
  if (port === null) return undefined;
  return {
    send: (message) => port.postMessage(message),
    onMessage: (listener) => void port.on("message", listener),
    onGone: () => {},
    leave: () => {},
  };
}

/** This worker's link; undefined in a process that nobody supervises (it serves by itself). */
export const supervisorLink: SupervisorLink | undefined = isMainThread ? processLink() : threadLink();
