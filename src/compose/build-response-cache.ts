import type { Clock } from "../clock.ts";
import type { ResponseCacheConfig } from "../config/response-cache-schema.ts";
import type { ResponderConfig } from "../config/schema.ts";
import { ConfigError } from "../errors.ts";
import type { Logger } from "../observability/logger.ts";
import { issuerTable, type IssuerTable } from "../responses/issuer-table.ts";
import { memoryResponseCache, type MemoryResponseCache } from "../responses/memory-response-cache.ts";
import { redisResponseCache } from "../responses/redis-response-cache.ts";
import type { ResponseCache } from "../responses/response-cache.ts";
import { tieredResponseCache } from "../responses/tiered-response-cache.ts";

/** One responder's response cache: the composed tiers, and the memory tier that renewing reads. */
export interface BuiltResponseCache {
  /** What the steps use: memory, then the shared tier when configured. */
  readonly cache: ResponseCache;
  readonly memory: MemoryResponseCache;
  readonly table: IssuerTable;
  close(): Promise<void>;
}

/**
 * Builds the response cache of responder `responder` from its `responseCache` field (at `field`).
 * Throws ConfigError naming the field when the responder's type does not use a cache, or a row's
 * DN pattern is not valid.
 */
export function buildResponseCache(responder: ResponderConfig, config: ResponseCacheConfig, field: string, clock: Clock, logger: Logger): BuiltResponseCache {
  if (responder.type !== "cached" && responder.type !== "identrus-cached") {
    throw new ConfigError(field, `responder type ${responder.type} does not use a response cache; use type cached or identrus-cached, or remove responseCache`);
  }
  const table = issuerTable(config.issuers, `${field}.issuers`);
  const memory = memoryResponseCache({ maxCount: config.maxCount, maxBytes: config.maxBytes, issuers: table, clock });
  if (config.redis === undefined) return { cache: memory, memory, table, close: () => memory.close() };
  let redis: ResponseCache;
  try {
    redis = redisResponseCache({
      url: config.redis.url,
      keyPrefix: config.redis.keyPrefix ?? `vouch:${responder.name}:`,
      timeoutMs: config.redis.timeout,
      logIntervalMs: config.redis.logInterval,
      issuers: table,
      clock,
      logger: logger.child({ cache: "redis" }),
    });
  } catch (error) {
    throw error instanceof ConfigError ? error.within(`${field}.redis`) : error;
  }
  const cache = tieredResponseCache(memory, redis);
  return { cache, memory, table, close: () => cache.close() };
}
