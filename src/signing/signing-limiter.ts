import { isPromise, type Awaitable } from "../awaitable.ts";
import { TryLaterError } from "../errors.ts";

/** Limits of a SigningLimiter (configuration `limits`, SPEC §7 load shedding). */
export interface SigningLimits {
  /** Signatures computed at once; more wait in the queue. */
  readonly maxInFlight: number;
  /** Signatures waiting for a free slot; one more is refused at once with TryLaterError. */
  readonly maxQueue: number;
}

/** A counting gate shared by every signer of one process (one responder generation). */
export interface SigningLimiter {
  /**
   * Runs `task` once fewer than `maxInFlight` tasks run, in arrival order. Rejects with
   * TryLaterError at once, without running `task`, when `maxQueue` tasks already wait.
   * Otherwise returns, throws, resolves or rejects as `task` does: a task that finishes at once
   * with a slot free (an inline signature) holds its slot only while it runs, and costs no promise.
   */
  run<T>(task: () => Awaitable<T>): Awaitable<T>;
  /** Tasks running now (metrics, tests). */
  readonly inFlight: number;
  /** Tasks waiting now (metrics, tests). */
  readonly queued: number;
}

/**
 * Builds the load-shedding gate (SPEC §7: "bounded in-flight signing; excess gets tryLater at
 * once"). Throws RangeError for limits that are not whole numbers (maxInFlight ≥ 1, maxQueue ≥ 0).
 */
export function signingLimiter(limits: SigningLimits): SigningLimiter {
  const { maxInFlight, maxQueue } = limits;
  if (!Number.isInteger(maxInFlight) || maxInFlight < 1) throw new RangeError(`maxInFlight must be a whole number ≥ 1 (got ${maxInFlight})`);
  if (!Number.isInteger(maxQueue) || maxQueue < 0) throw new RangeError(`maxQueue must be a whole number ≥ 0 (got ${maxQueue})`);
  let running = 0;
  // FIFO of waiters; `head` advances instead of shift() so a long queue costs O(1) per task.
  let waiting: (() => void)[] = [];
  let head = 0;
  const release = () => {
    if (head < waiting.length) {
      const next = waiting[head]!;
      waiting[head++] = noop;
      if (head > 1024 && head * 2 > waiting.length) {
        waiting = waiting.slice(head);
        head = 0;
      }
      // The slot passes straight to the next waiter (`running` is unchanged), in a microtask: a waiter
      // that signs at once releases again, and a run of them must not nest one call deeper each.
      queueMicrotask(next);
      return;
    }
    running--;
  };
  /** Runs `task` in a slot already counted in `running`; the slot is released when it settles. */
  const start = <T>(task: () => Awaitable<T>): Awaitable<T> => {
    let result: Awaitable<T>;
    try {
      result = task();
    } catch (error) {
      release();
      throw error;
    }
    if (isPromise(result)) return result.finally(release);
    release();
    return result;
  };
  return {
    run(task) {
      if (running < maxInFlight) {
        running++;
        return start(task);
      }
      if (waiting.length - head >= maxQueue) {
        return Promise.reject(new TryLaterError(`overloaded: ${maxInFlight} signatures in flight and ${maxQueue} waiting`));
      }
      return new Promise((resolve, reject) => {
        waiting.push(() => {
          try {
            resolve(start(task));
          } catch (error) {
            reject(error as Error);
          }
        });
      });
    },
    get inFlight() {
      return running;
    },
    get queued() {
      return waiting.length - head;
    },
  };
}

function noop(): void {}
