import { ConfigError } from "../errors.ts";

/** How a group commit batches items. */
export interface GroupCommitOptions<T> {
  /** Makes one batch durable. A rejection fails every item of that batch, and only those. */
  readonly flush: (batch: T[]) => Promise<void>;
  /**
   * How long the first item of a batch may wait for company when no flush is in flight (default 0:
   * flush at once; items that arrive while a flush runs form the next batch anyway).
   */
  readonly maxDelayMs?: number;
  /** A batch this full is flushed without waiting for its delay (default 512). */
  readonly maxBatch?: number;
  /**
   * Flushes that may run at once (default 1). A database with a connection pool commits several
   * batches in parallel; one append-only file gains nothing from it.
   */
  readonly maxInFlight?: number;
}

/** A batcher in front of a slow durable operation (fsync, INSERT). */
export interface GroupCommit<T> {
  /** Queues `item`; resolves once the batch holding it flushed, rejects if that flush failed. */
  add(item: T): Promise<void>;
  /** Flushes everything pending at once (without waiting for delays); `add` rejects from now on. */
  close(): Promise<void>;
}

/**
 * Default delay: none. A fixed wait measured as the floor of every billed request's latency (with 8
 * connections it capped a responder at ~1,800 req/s); batches still form while a flush is in flight.
 */
const DEFAULT_MAX_DELAY_MS = 0;
/** Default batch size: a few hundred JSON lines or INSERT rows stay well under a megabyte. */
const DEFAULT_MAX_BATCH = 512;

interface Waiter {
  resolve(): void;
  reject(error: Error): void;
}

interface Batch<T> {
  readonly items: T[];
  readonly waiters: Waiter[];
  /** Set when its delay ran out or it filled up: flush as soon as nothing else is in flight. */
  due: boolean;
  timer: ReturnType<typeof setTimeout> | undefined;
}

/** Validates the batching options shared by the group commit and the sinks built on it. */
export function validateBatching(options: { readonly maxDelayMs?: number; readonly maxBatch?: number }): { maxDelayMs: number; maxBatch: number } {
  const maxDelayMs = options.maxDelayMs ?? DEFAULT_MAX_DELAY_MS;
  const maxBatch = options.maxBatch ?? DEFAULT_MAX_BATCH;
  if (!Number.isFinite(maxDelayMs) || maxDelayMs < 0) throw new ConfigError("maxDelayMs", "must be a number of milliseconds ≥ 0");
  if (!Number.isInteger(maxBatch) || maxBatch < 1) throw new ConfigError("maxBatch", "must be an integer ≥ 1");
  return { maxDelayMs, maxBatch };
}

/**
 * Builds a group commit: items that arrive while a flush is in flight (or within `maxDelayMs`, or
 * until `maxBatch` of them) are flushed together, so one fsync or one INSERT pays for many requests. Only one flush runs at a
 * time, because the storage behind it (one append-only file, one table) gains nothing from two,
 * and ordering stays simple; items that arrive during a flush form the next batch.
 */
export function groupCommit<T>(options: GroupCommitOptions<T>): GroupCommit<T> {
  if (typeof options.flush !== "function") throw new ConfigError("flush", "must be a function");
  const { maxDelayMs, maxBatch } = validateBatching(options);
  const { flush } = options;
  const maxInFlight = options.maxInFlight ?? 1;
  if (!Number.isInteger(maxInFlight) || maxInFlight < 1) throw new ConfigError("maxInFlight", "must be an integer ≥ 1");
  /** Batches not yet handed to `flush`; only the last one accepts items. */
  const queue: Batch<T>[] = [];
  let flushing = 0;
  let closing = false;
  let closed: Promise<void> | undefined;
  let drained: (() => void) | undefined;

  const pump = (): void => {
    if (flushing >= maxInFlight) return;
    const batch = queue[0];
    if (batch === undefined) {
      if (flushing === 0) drained?.();
      return;
    }
    if (!batch.due && !closing) return;
    queue.shift();
    clearTimeout(batch.timer);
    flushing++;
    let result: Promise<void>;
    try {
      result = flush(batch.items);
    } catch (error) {
      // A flush that throws before returning its promise fails its batch like one that rejects.
      result = Promise.reject(error);
    }
    result.then(
      () => {
        for (const waiter of batch.waiters) waiter.resolve();
      },
      (error: unknown) => {
        const reason = error instanceof Error ? error : new Error(`flush failed: ${String(error)}`);
        for (const waiter of batch.waiters) waiter.reject(reason);
      },
    ).finally(() => {
      flushing--;
      pump();
    });
    // With room for more flushes, a further due batch goes out now.
    pump();
  };

  const openBatch = (): Batch<T> => {
    const last = queue.at(-1);
    if (last !== undefined && last.items.length < maxBatch) return last;
    const batch: Batch<T> = { items: [], waiters: [], due: maxDelayMs === 0, timer: undefined };
    if (maxDelayMs === 0) {
      // Items added in the same tick (a burst) still share the flush.
      queueMicrotask(pump);
    } else {
      // The delay counts from the batch's first item, so no item waits much longer than maxDelayMs
      // plus the flush in flight ahead of it.
      batch.timer = setTimeout(() => {
        batch.due = true;
        pump();
      }, maxDelayMs);
    }
    queue.push(batch);
    return batch;
  };

  return {
    add(item) {
      if (closing) return Promise.reject(new Error("the billing group commit is closed"));
      return new Promise<void>((resolve, reject) => {
        const batch = openBatch();
        batch.items.push(item);
        batch.waiters.push({ resolve, reject });
        if (batch.items.length >= maxBatch) {
          clearTimeout(batch.timer);
          batch.due = true;
          pump();
        }
      });
    },
    close() {
      if (closed === undefined) {
        closing = true;
        closed = new Promise<void>((resolve) => (drained = resolve));
        pump();
      }
      return closed;
    },
  };
}
