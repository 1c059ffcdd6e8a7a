/**
 * The scheduling priority of one thread. Linux schedules threads one by one, and setpriority(2)
 * on a thread id changes that thread only; Node's os.setPriority takes such an id, which a thread
 * finds as the last part of /proc/thread-self ("<pid>/task/<tid>").
 */
import { readlinkSync } from "node:fs";
import { setPriority } from "node:os";

/**
 * Sets the calling thread's niceness (-20..19; only root may go below the current one). Returns
 * false, changing nothing, where threads have no such id (not Linux): the thread then keeps the
 * process's priority, which is correct, only less polite. Throws as os.setPriority does otherwise.
 */
export function setThisThreadNiceness(niceness: number): boolean {
  const tid = thisThreadId();
  if (tid === undefined) return false;
  setPriority(tid, niceness);
  return true;
}

/** The kernel's id of the calling thread, or undefined without /proc/thread-self. */
export function thisThreadId(): number | undefined {
  let link: string;
  try {
    link = readlinkSync("/proc/thread-self");
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === "ENOENT") return undefined;
    throw error;
  }
  const tid = Number(link.slice(link.lastIndexOf("/") + 1));
  return Number.isInteger(tid) && tid > 0 ? tid : undefined;
}
