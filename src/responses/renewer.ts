/**
 * SPEC §6 renewing: entries of issuer rows with `renew.margin` are refreshed that long before they
 * expire, in the background, at most as fast as the token bucket allows, so that clients keep
 * getting stored responses and the hot path never signs for them.
 */
import type { Clock } from "../clock.ts";
import type { Logger } from "../observability/logger.ts";
import type { CertId } from "../ocsp/types.ts";
import type { MemoryResponseCache } from "./memory-response-cache.ts";
import { outageLog } from "./outage-log.ts";
import type { ResponseCache } from "./response-cache.ts";
import type { ResponseProducer } from "./response-producer.ts";
import type { TokenBucket } from "./token-bucket.ts";

export interface RenewerOptions {
  /** Where due entries are found (its renewal schedule). */
  readonly memory: MemoryResponseCache;
  /** Where renewed responses go (every tier). */
  readonly cache: ResponseCache;
  readonly producer: ResponseProducer;
  readonly bucket: TokenBucket;
  readonly clock: Clock;
  readonly logger: Logger;
  /** How often the schedule is looked at (default 250 ms); 0 starts no timer (tests call `runOnce`). */
  readonly tickMs?: number;
  /** Renewals in flight at once (default 4). */
  readonly parallel?: number;
}

export interface Renewer {
  /** Renews what is due now, as far as tokens allow; resolves with how many were stored. */
  runOnce(): Promise<number>;
  /** Stops the timer and waits for renewals in flight. */
  close(): Promise<void>;
}

/**
 * Starts renewing. A due entry that gets no token now is not lost: it is looked at again on the
 * next tick (it stays in the memory tier until it expires). Failures (e.g. stale source data)
 * leave the entry to expire and are logged at most once a minute.
 */
export function startRenewer(options: RenewerOptions): Renewer {
  const { memory, cache, producer, bucket, clock, logger } = options;
  const parallel = options.parallel ?? 4;
  const failures = outageLog(logger, { what: "response renewal", intervalMs: 60_000, clock, effect: "entries expire and are signed on demand" });
  const controller = new AbortController();
  let running: Promise<number> | undefined;
  // Entries handed out but waiting for a token.
  const waiting: CertId[] = [];

  const renew = async (id: CertId): Promise<boolean> => {
    try {
      const response = await producer.produce(id, controller.signal);
      if (response === undefined) return false;
      await cache.put(id, response);
      failures.succeeded();
      return true;
    } catch (error) {
      failures.failed(error);
      return false;
    }
  };

  const pass = async (): Promise<number> => {
    let stored = 0;
    for (;;) {
      if (controller.signal.aborted) return stored;
      if (waiting.length === 0) waiting.push(...memory.dueForRenewal(64));
      const batch: CertId[] = [];
      while (batch.length < parallel && waiting.length > 0 && bucket.take()) batch.push(waiting.shift()!);
      if (batch.length === 0) return stored;
      const results = await Promise.all(batch.map(renew));
      stored += results.filter(Boolean).length;
    }
  };

  const runOnce = (): Promise<number> => {
    running ??= pass().finally(() => {
      running = undefined;
    });
    return running;
  };

  const tickMs = options.tickMs ?? 250;
  const timer = tickMs > 0 ? setInterval(() => void runOnce(), tickMs) : undefined;
  timer?.unref();
  return {
    runOnce,
    async close() {
      if (timer !== undefined) clearInterval(timer);
      controller.abort();
      await running;
    },
  };
}
