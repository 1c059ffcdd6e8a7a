/**
 * SPEC §6 pre-production: responses for every certificate an issuer's sources know are signed in the
 * background and stored, so that the hot path never signs for them (renewing then keeps them fresh).
 * Runs at start and again every rescan interval (certificates the sources added since), skipping
 * CertIDs the cache already holds (in any tier), at most as fast as the token bucket allows.
 */
import { setTimeout as sleep } from "node:timers/promises";
import type { Clock } from "../clock.ts";
import { issuerHashes } from "../ocsp/cert-id.ts";
import { clientCertId } from "./changed-cert-ids.ts";
import { minimalSerial } from "../ocsp/minimal-serial.ts";
import type { CertId, HashAlgorithm } from "../ocsp/types.ts";
import type { Logger } from "../observability/logger.ts";
import type { MemoryResponseCache } from "./memory-response-cache.ts";
import { outageLog } from "./outage-log.ts";
import type { ResponseCache } from "./response-cache.ts";
import type { ResponseProducer } from "./response-producer.ts";
import type { TokenBucket } from "./token-bucket.ts";

/** An issuer whose responses are pre-produced. */
export interface PreProducedIssuer {
  /** For logs. */
  readonly name: string;
  /** The CA certificate DER (its hashes make the CertIDs). */
  readonly certificate: Buffer;
  /** The serials its sources know: each serial INTEGER's minimal content octets. */
  serials(): Iterable<Buffer>;
  /** CertID hash algorithms to produce for. */
  readonly hashAlgorithms: readonly HashAlgorithm[];
}

export interface PreProductionOptions {
  readonly issuers: readonly PreProducedIssuer[];
  readonly memory: MemoryResponseCache;
  readonly cache: ResponseCache;
  readonly producer: ResponseProducer;
  readonly bucket: TokenBucket;
  readonly clock: Clock;
  readonly logger: Logger;
  /** Time between two passes; 0 runs one pass only. */
  readonly rescanIntervalMs: number;
}

export interface PreProduction {
  /** Resolves when the first pass has finished (or was stopped), with how many responses it stored. */
  readonly firstPass: Promise<number>;
  /** Stops, waiting for the response in progress. */
  close(): Promise<void>;
}

/** Starts pre-production in the background. Never rejects: failures are logged at most once a minute. */
export function startPreProduction(options: PreProductionOptions): PreProduction {
  const { memory, cache, producer, bucket, clock, logger } = options;
  const controller = new AbortController();
  const { signal } = controller;
  const failures = outageLog(logger, { what: "response pre-production", intervalMs: 60_000, clock, effect: "those certificates are signed on demand" });
  let fullWarned = false;

  const produceOne = async (id: CertId): Promise<boolean> => {
    for (let wait = bucket.msUntilNext(); !bucket.take(); wait = bucket.msUntilNext()) {
      await sleep(Math.max(wait, 1), undefined, { signal });
    }
    try {
      const response = await producer.produce(id, signal);
      if (response === undefined) return false;
      await cache.put(id, response);
      failures.succeeded();
      return true;
    } catch (error) {
      if (signal.aborted) throw error;
      failures.failed(error);
      return false;
    }
  };

  const pass = async (first: boolean): Promise<number> => {
    let stored = 0;
    for (const issuer of options.issuers) {
      const hashes = issuerHashes(issuer.certificate);
      let seen = 0;
      for (const serial of issuer.serials()) {
        // Skipping held entries costs only microtasks; yield to I/O now and then so a large index never blocks the loop.
        if (++seen % 512 === 0) await sleep(0, undefined, { signal });
        for (const algorithm of issuer.hashAlgorithms) {
          const id = clientCertId(algorithm, hashes.get(algorithm)!, minimalSerial(serial));
          // Through every tier: what another instance stored in Redis is not signed again (a hit fills memory).
          if (memory.has(id) || (await cache.get(id)) !== undefined) continue;
          if (memory.count >= memory.maxCount) {
            if (!fullWarned) logger.warn({ result: "full", maxCount: memory.maxCount, issuer: issuer.name }, "response cache full: pre-production paused (raise responseCache.maxCount)");
            fullWarned = true;
            return stored;
          }
          if (await produceOne(id)) stored++;
        }
      }
    }
    // Rescans that find nothing new stay quiet.
    if (first || stored > 0) logger.info({ result: "done", stored, first }, "responses pre-produced");
    return stored;
  };

  const loop = async (): Promise<void> => {
    for (;;) {
      await sleep(options.rescanIntervalMs, undefined, { signal });
      await pass(false);
    }
  };

  const stopped = (error: unknown): number => {
    if (signal.aborted) return 0;
    logger.error({ err: error }, "response pre-production failed");
    return 0;
  };
  const firstPass = pass(true).catch(stopped);
  const rest = options.rescanIntervalMs > 0 ? firstPass.then(loop).catch(stopped) : firstPass;
  return {
    firstPass,
    async close() {
      controller.abort();
      await rest;
    },
  };
}
