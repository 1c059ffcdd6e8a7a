/**
 * Signs again, at once, the responses a change event made wrong (issue 14 item 1): renewing and
 * pre-production keep responses ready so that the hot path never signs, and a revocation must not
 * leave them waiting for their next turn, nor for tokens of the background bucket (a change is
 * rare, small and urgent; a change too large to list is left to on-demand signing and the next
 * rescan). A few at a time, each CertID once while it waits.
 */
import type { Clock } from "../clock.ts";
import type { Logger } from "../observability/logger.ts";
import type { CertId } from "../ocsp/types.ts";
import { cacheKey } from "./cache-key.ts";
import { outageLog } from "./outage-log.ts";
import type { ResponseCache } from "./response-cache.ts";
import type { ResponseProducer } from "./response-producer.ts";

export interface ResignQueue {
  /** Queues `ids` (those already waiting once); ids past `maxWaiting` are dropped: they are signed on demand. */
  add(ids: Iterable<CertId>): void;
  /** Resolves when nothing waits or is being signed (tests). */
  idle(): Promise<void>;
  /** Drops what waits and waits for what is being signed. */
  close(): Promise<void>;
}

export interface ResignQueueOptions {
  readonly producer: ResponseProducer;
  /** Where signed responses go (every tier). */
  readonly cache: ResponseCache;
  readonly clock: Clock;
  readonly logger: Logger;
  /** Signatures in flight at once (default 4). */
  readonly parallel?: number;
  /** Most CertIDs waiting (default 10,000). */
  readonly maxWaiting?: number;
}

export function resignQueue(options: ResignQueueOptions): ResignQueue {
  const { producer, cache } = options;
  const parallel = options.parallel ?? 4;
  const maxWaiting = options.maxWaiting ?? 10_000;
  const failures = outageLog(options.logger, { what: "signing after a change", intervalMs: 60_000, clock: options.clock, effect: "those certificates are signed on demand" });
  const controller = new AbortController();
  const waiting = new Map<string, CertId>();
  let running = 0;
  let settled: (() => void) | undefined;
  let whenIdle: Promise<void> = Promise.resolve();

  const resign = async (id: CertId): Promise<void> => {
    try {
      const response = await producer.produce(id, controller.signal);
      if (response !== undefined) await cache.put(id, response);
      failures.succeeded();
    } catch (error) {
      if (!controller.signal.aborted) failures.failed(error);
    }
  };

  const pump = (): void => {
    while (running < parallel && waiting.size > 0 && !controller.signal.aborted) {
      const [key, id] = waiting.entries().next().value!;
      waiting.delete(key);
      running++;
      void resign(id).finally(() => {
        running--;
        pump();
      });
    }
    if (running === 0 && waiting.size === 0) {
      settled?.();
      settled = undefined;
    }
  };

  return {
    add(ids) {
      for (const id of ids) {
        if (waiting.size >= maxWaiting) break;
        waiting.set(cacheKey(id), id);
      }
      if (settled === undefined && waiting.size > 0) whenIdle = new Promise((resolve) => (settled = resolve));
      pump();
    },
    idle: () => whenIdle,
    async close() {
      controller.abort();
      waiting.clear();
      pump();
      await whenIdle;
    },
  };
}
