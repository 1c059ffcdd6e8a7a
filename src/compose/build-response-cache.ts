import type { Clock } from "../clock.ts";
import type { ResponseCacheConfig } from "../config/response-cache-schema.ts";
import type { ResponderConfig } from "../config/schema.ts";
import { ConfigError } from "../errors.ts";
import { certificateFields } from "../ocsp/certificate-fields.ts";
import type { Logger } from "../observability/logger.ts";
import type { OperationsMetrics } from "../observability/operations-metrics.ts";
import type { IssuerDirectory } from "../issuers/issuer-directory.ts";
import { localResponseProducer } from "../pipeline/local-response-producer.ts";
import { localValidationStep } from "../pipeline/steps/07-local-validation.ts";
import { signStep } from "../pipeline/steps/08-sign.ts";
import { issuerTable, type IssuerTable } from "../responses/issuer-table.ts";
import { memoryResponseCache, type MemoryResponseCache } from "../responses/memory-response-cache.ts";
import { startPreProduction, type PreProducedIssuer, type PreProduction } from "../responses/pre-producer.ts";
import { redisResponseCache, type RedisResponseCache } from "../responses/redis-response-cache.ts";
import { resignQueue } from "../responses/resign-queue.ts";
import { clientCertId } from "../responses/changed-cert-ids.ts";
import type { StatusChanges } from "../status/change-events.ts";
import type { ChangeOrigin, RemoteChanges } from "../responses/apply-changes.ts";
import type { PurgeRequest, PurgeScope } from "../responses/cache-purge.ts";
import { changeChannelName, redisChangeChannel, type ChangeChannel, type RemoteChange } from "../responses/redis-change-channel.ts";
import type { CertId } from "../ocsp/types.ts";
import { startRenewer, type Renewer } from "../responses/renewer.ts";
import type { ResponseCache } from "../responses/response-cache.ts";
import { firstProducer, type ResponseProducer } from "../responses/response-producer.ts";
import type { OwnChainProofs } from "../responses/own-chain-proofs.ts";
import { tieredResponseCache } from "../responses/tiered-response-cache.ts";
import { tokenBucket } from "../responses/token-bucket.ts";

/** Changes kept for a Redis that is away (deletions, publications), each list at most this long. */
const MAX_UNSENT = 1000;

/** One responder's response cache: the composed tiers, and what runs in the background. */
export interface BuiltResponseCache {
  /** What the steps use: memory, then the shared tier when configured. */
  readonly cache: ResponseCache;
  readonly memory: MemoryResponseCache;
  readonly table: IssuerTable;
  /** Pre-production, when some served issuer matches a row with `preProduce`. */
  readonly preProduction: PreProduction | undefined;
  /** With a Redis tier: whether its connection is ready now (readiness shows it degraded when not). */
  readonly redisUp: (() => boolean) | undefined;
  /**
   * Applies a change event of one of the responder's issuers (issue 14 item 1): drops the changed
   * CertIDs from memory and Redis, and signs at once those renewing or pre-production keeps ready.
   * A change of another instance (`remote`) is dropped from memory only: that instance deleted the
   * Redis keys and signs again. Resolves when both tiers are done (Redis within its timeout); never
   * rejects. A Redis deletion that failed is tried again once Redis is back.
   */
  applyChange(changes: StatusChanges, origin: ChangeOrigin): Promise<void>;
  /** Drops the memory tier (changes of other instances may have been missed). */
  dropAll(): void;
  /** `vouch cache purge`: drops `scope` from memory and Redis; resolves with the counts (redis undefined: none, or unreachable). */
  purge(scope: PurgeScope): Promise<{ readonly memory: number; readonly redis: number | undefined }>;
  /** Another instance's `vouch cache purge` (change channel): drops `scope` from memory only; how many responses went. */
  purgeMemory(scope: PurgeScope): number;
  /** With a Redis tier: the other instances' changes, and publishing this one's (redis-change-channel.ts). */
  readonly remote: RemoteChanges | undefined;
  /** Stops renewing and pre-production, then closes the tiers. */
  close(): Promise<void>;
}

export interface ResponseCacheDependencies {
  /** The responder's served issuers: renewing and pre-production sign for them. */
  readonly issuers: IssuerDirectory;
  readonly clock: Clock;
  readonly logger: Logger;
  /**
   * Producers asked before local validation when renewing (e.g. the back-end client for forwarded
   * issuers, SPEC §6 "or the back-end client for forwarded issuers"); the first that serves an
   * issuer produces its responses.
   */
  readonly producers?: readonly ResponseProducer[];
  /** identrus-cached: background responses carry the own-chain freshness proofs too (SPEC step 8). */
  readonly ownChainProofs?: OwnChainProofs | undefined;
  /** Size, evictions and Redis availability are reported here (operations-metrics.ts). */
  readonly metrics?: OperationsMetrics | undefined;
}

/**
 * Builds the response cache of `responder` from its `responseCache` field (at `field`) and starts
 * renewing (rows with `renew`) and pre-production (rows with `preProduce`). Throws ConfigError naming
 * the field when the responder's type does not use a cache, a row's DN pattern is not valid, or an
 * option is out of range.
 */
export function buildResponseCache(responder: ResponderConfig, config: ResponseCacheConfig, field: string, dependencies: ResponseCacheDependencies): BuiltResponseCache {
  const { issuers, clock, logger } = dependencies;
  if (responder.type !== "cached" && responder.type !== "identrus-cached") {
    throw new ConfigError(field, `responder type ${responder.type} does not use a response cache; use type cached or identrus-cached, or remove responseCache`);
  }
  const table = issuerTable(config.issuers, `${field}.issuers`);
  const { metrics } = dependencies;
  const evicted = metrics?.cacheEvictions.child({ responder: responder.name });
  const memory = memoryResponseCache({ maxCount: config.maxCount, maxBytes: config.maxBytes, issuers: table, clock, onEvict: evicted === undefined ? undefined : () => evicted.inc() });
  const untrack = metrics === undefined ? [] : [metrics.trackResponseCache(responder.name, memory)];
  let cache: ResponseCache = memory;
  let redisUp: (() => boolean) | undefined;
  let redis: RedisResponseCache | undefined;
  if (config.redis !== undefined) {
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
      cache = tieredResponseCache(memory, redis);
      const shared = redis;
      redisUp = () => shared.status === "ready";
      if (metrics !== undefined) untrack.push(metrics.trackRedis(responder.name, redisUp));
    } catch (error) {
      throw error instanceof ConfigError ? error.within(`${field}.redis`) : error;
    }
  }

  // Background responses come from the responder's own plain steps (no cache lookup, no store hook).
  const local = localResponseProducer({
    issuers,
    localValidation: localValidationStep({ issuers, nonIssued: responder.nonIssued, clock }),
    sign: signStep({ noncePolicy: responder.nonce.policy, clock, ownChainProofs: dependencies.ownChainProofs }),
    clock,
  });
  const producer = firstProducer([...(dependencies.producers ?? []), local]);
  const bucket = tokenBucket({ perSecond: config.background.perSecond, burst: config.background.burst }, clock);
  const backgroundLogger = logger.child({ cache: "background" });
  const renewer: Renewer | undefined = table.rows.some((row) => row.renew !== undefined)
    ? startRenewer({ memory, cache, producer, bucket, clock, logger: backgroundLogger })
    : undefined;
  const preProduced: PreProducedIssuer[] = [];
  for (const issuer of issuers.all) {
    const preProduce = table.rowFor(certificateFields(issuer.certificate).subjectDer)?.preProduce;
    const serials = issuer.data.serials;
    if (preProduce === undefined) continue;
    if (serials === undefined) {
      backgroundLogger.warn({ issuer: issuer.name }, "pre-production: this issuer's sources do not list certificates (only index and memory sources do)");
      continue;
    }
    preProduced.push({ name: issuer.name, certificate: issuer.certificate, serials: () => serials.call(issuer.data), hashAlgorithms: preProduce.hashAlgorithms });
  }
  const preProduction =
    preProduced.length === 0
      ? undefined
      : startPreProduction({ issuers: preProduced, memory, cache, producer, bucket, clock, logger: backgroundLogger, rescanIntervalMs: config.background.rescanInterval });

  const resign = resignQueue({ producer, cache, clock, logger: backgroundLogger });
  /** This worker's changes whose Redis deletion or publication failed: tried again once Redis is back. */
  const unsent = { deletions: [] as StatusChanges[], publications: [] as StatusChanges[] };
  const remember = (list: StatusChanges[], changes: StatusChanges): void => {
    // Bounded: past it the oldest goes, and the other instances drop their memory tiers on reconnection anyway.
    if (list.length >= MAX_UNSENT) list.shift();
    list.push(changes);
  };
  const serialsOf = (changes: StatusChanges): Buffer[] | "everything" => (changes.kind === "everything" ? "everything" : [...changes.serials].map((change) => change.serial));
  const applyChange = async (changes: StatusChanges, origin: ChangeOrigin): Promise<void> => {
    const serials = serialsOf(changes);
    const dropped = memory.evictChanged(changes.issuer, serials);
    if (origin === "remote") return;
    if (redis !== undefined) {
      if ((await redis.evictChanged(changes.issuer, serials)) === undefined) remember(unsent.deletions, changes);
      // A request in between may have filled memory from Redis with what was just deleted there.
      dropped.push(...memory.evictChanged(changes.issuer, serials));
    }
    const row = table.rowFor(changes.issuer.subjectDer);
    if (row === undefined || (row.renew === undefined && row.preProduce === undefined)) return;
    const again: CertId[] = dropped;
    if (row.preProduce !== undefined && changes.kind === "serials") {
      for (const change of changes.serials) {
        if (change.kind === "removed") continue;
        for (const algorithm of row.preProduce.hashAlgorithms) again.push(clientCertId(algorithm, changes.issuer.hashes.get(algorithm)!, change.serial));
      }
    }
    resign.add(again);
  };

  let channel: ChangeChannel | undefined;
  let remote: RemoteChanges | undefined;
  if (redis !== undefined && config.redis !== undefined) {
    const shared = redis;
    const changeListeners: ((change: RemoteChange) => void)[] = [];
    const missedListeners: ((downForMs: number) => void)[] = [];
    const purgeListeners: ((scope: PurgeScope, request: PurgeRequest) => void)[] = [];
    const retryUnsent = async (): Promise<void> => {
      const deletions = unsent.deletions.splice(0);
      for (const changes of deletions) {
        if ((await shared.evictChanged(changes.issuer, serialsOf(changes))) === undefined) remember(unsent.deletions, changes);
      }
      const publications = unsent.publications.splice(0);
      for (const changes of publications) if (!(await channel!.publish(changes))) remember(unsent.publications, changes);
    };
    channel = redisChangeChannel({
      url: config.redis.url,
      channel: changeChannelName(config.redis.keyPrefix ?? `vouch:${responder.name}:`),
      publish: (name, message) => shared.publish(name, message),
      logger: logger.child({ cache: "redis" }),
      onRemote: (change) => {
        for (const listener of changeListeners) listener(change);
      },
      onMissed: (downForMs) => {
        for (const listener of missedListeners) listener(downForMs);
      },
      onPurge: (scope, request) => {
        for (const listener of purgeListeners) listener(scope, request);
      },
      onReconnected: () => void retryUnsent(),
    });
    const open = channel;
    remote = {
      onChange: (listener) => changeListeners.push(listener),
      onMissed: (listener) => missedListeners.push(listener),
      onPurge: (listener) => purgeListeners.push(listener),
      publish(changes) {
        void open.publish(changes).then((sent) => {
          if (!sent) remember(unsent.publications, changes);
        });
      },
    };
  }

  return {
    cache,
    memory,
    table,
    preProduction,
    redisUp,
    applyChange,
    dropAll: () => void memory.evictAll(),
    purgeMemory(scope) {
      return scope.kind === "everything" ? memory.evictAll() : memory.evictChanged(scope.issuer, scope.serials).length;
    },
    async purge(scope) {
      if (scope.kind === "everything") return { memory: memory.evictAll(), redis: await redis?.evictAll() };
      const dropped = memory.evictChanged(scope.issuer, scope.serials).length;
      const deleted = await redis?.evictChanged(scope.issuer, scope.serials);
      return { memory: dropped + memory.evictChanged(scope.issuer, scope.serials).length, redis: deleted };
    },
    remote,
    async close() {
      await channel?.close();
      await Promise.all([renewer?.close(), preProduction?.close(), resign.close()]);
      await cache.close();
      for (const remove of untrack) remove();
    },
  };
}
