/**
 * The shared tier of the response cache (SPEC §6 "A shared tier in Redis lets several instances
 * serve one cache"). Same keys as memory (behind a prefix), each value a small header (thisUpdate,
 * nextUpdate, expiresAt, producedAt) and the response bytes, with a Redis TTL (PX) that ends at the
 * expiry. A write never replaces a newer response (a Lua script compares the two atomically).
 *
 * Redis is never in the way: every command has a bounded timeout; while Redis is down or slow a get
 * is a miss and a put is dropped, so Vouch goes on from memory and local validation; the outage is
 * logged once per interval, not per request; the client reconnects by itself (ioredis retry
 * strategy) and commands never queue while it is disconnected.
 */
import { createRequire } from "node:module";
import type { Redis as RedisClient } from "ioredis";
import type { Clock } from "../clock.ts";
import { ConfigError } from "../errors.ts";
import type { Logger } from "../observability/logger.ts";
import type { CertId } from "../ocsp/types.ts";
import { cacheKey } from "./cache-key.ts";
import { cachedResponse, type StoredFields } from "./cached-single.ts";
import { certIdEncodings, type IssuerOfChange } from "./changed-cert-ids.ts";
import type { IssuerTable } from "./issuer-table.ts";
import { outageLog } from "./outage-log.ts";
import type { CachedResponse, ResponseCache } from "./response-cache.ts";

export interface RedisResponseCacheOptions {
  /** redis:// or rediss:// URL. */
  readonly url: string;
  /** Prefix of every key (e.g. "vouch:ocsp-1:"). */
  readonly keyPrefix: string;
  /** Longest wait for one command, in ms. */
  readonly timeoutMs: number;
  /** Shortest time between two outage warnings, in ms. */
  readonly logIntervalMs: number;
  readonly issuers: IssuerTable;
  readonly clock: Clock;
  readonly logger: Logger;
}

/** The Redis tier; `status` is ioredis's connection state ("ready" when commands can run). */
export interface RedisResponseCache extends ResponseCache {
  readonly status: string;
  /**
   * Deletes what a change event made wrong: the keys of every CertID encoding of `serials` of
   * `issuer` (changed-cert-ids.ts), or with "everything" every key of the issuer (a SCAN). Resolves
   * with how many keys went, or `undefined` when Redis could not be reached (logged); never rejects.
   */
  evictChanged(issuer: IssuerOfChange, serials: Iterable<Buffer> | "everything"): Promise<number | undefined>;
  /** Deletes every key under the prefix (a SCAN); resolves like evictChanged. */
  evictAll(): Promise<number | undefined>;
  /** PUBLISHes `message` on `channel`; resolves with how many subscribers got it, undefined when Redis could not be reached (logged). */
  publish(channel: string, message: string): Promise<number | undefined>;
}

/**
 * Value layout: version octet, then thisUpdate, nextUpdate, expiresAt and producedAt as float64 BE
 * milliseconds, then the body. Version 1 (without producedAt) reads as a miss.
 */
const VERSION = 2;
const HEADER = 1 + 4 * 8;

/**
 * Newer never loses to older, atomically: SET the value (ARGV[1], TTL ARGV[2] ms) unless the key
 * holds a value of this version whose thisUpdate (then producedAt) is newer than ARGV[3] (ARGV[4]).
 * Redis's Lua has `struct` for the float64 fields. Returns 1 when written, 0 when the held one stays.
 */
const SET_UNLESS_NEWER = `
local held = redis.call('GET', KEYS[1])
if held and string.byte(held, 1) == ${VERSION} and string.len(held) > ${HEADER} then
  local thisUpdate = struct.unpack('>d', held, 2)
  local producedAt = struct.unpack('>d', held, 26)
  local offered = tonumber(ARGV[3])
  if thisUpdate > offered or (thisUpdate == offered and producedAt > tonumber(ARGV[4])) then return 0 end
end
redis.call('SET', KEYS[1], ARGV[1], 'PX', ARGV[2])
return 1
`;

/** The client with the command `defineCommand` adds for SET_UNLESS_NEWER. */
interface ScriptedClient {
  setUnlessNewer(key: string, value: Buffer, ttlMs: number, thisUpdateMs: number, producedAtMs: number): Promise<number>;
}
/** Longest wait between reconnection attempts, in ms. */
const MAX_RECONNECT_DELAY_MS = 1000;

/**
 * Connects (in the background) to `url`. Throws ConfigError naming `url` when it is not a Redis URL,
 * or `timeoutMs`/`logIntervalMs` when not positive. `get` and `put` never reject.
 */
export function redisResponseCache(options: RedisResponseCacheOptions): RedisResponseCache {
  const { keyPrefix, issuers, clock, logger } = options;
  if (typeof options.url !== "string" || !/^rediss?:\/\//.test(options.url)) throw new ConfigError("url", "must be a redis:// or rediss:// URL");
  for (const field of ["timeoutMs", "logIntervalMs"] as const) {
    if (!(options[field] > 0)) throw new ConfigError(field, "must be a positive number of milliseconds");
  }
  const outage = outageLog(logger, { what: "redis", intervalMs: options.logIntervalMs, clock, effect: "response cache misses go to memory and local validation" });
  // ioredis (CommonJS) loads only when a Redis tier is configured: ~110 ms of start-up otherwise.
  const { Redis } = createRequire(import.meta.url)("ioredis") as { Redis: typeof RedisClient };
  const client = new Redis(options.url, {
    // A command while disconnected fails at once instead of waiting in a queue.
    enableOfflineQueue: false,
    maxRetriesPerRequest: 0,
    autoResendUnfulfilledCommands: false,
    commandTimeout: options.timeoutMs,
    connectTimeout: Math.max(options.timeoutMs, 1000),
    // Reconnect forever, quickly: Redis coming back is picked up within a second.
    retryStrategy: (attempt: number) => Math.min(attempt * 100, MAX_RECONNECT_DELAY_MS),
  });
  // EVALSHA, falling back to EVAL when Redis does not know the script yet (ioredis does both).
  client.defineCommand("setUnlessNewer", { numberOfKeys: 1, lua: SET_UNLESS_NEWER });
  const scripted = client as unknown as ScriptedClient;
  // Connection errors arrive as events; without a listener they would be thrown.
  client.on("error", (error: unknown) => outage.failed(error));
  client.on("ready", () => outage.succeeded());
  const pending = new Set<Promise<unknown>>();
  let closed = false;

  const track = <T>(promise: Promise<T>): Promise<T> => {
    pending.add(promise);
    void promise.finally(() => pending.delete(promise)).catch(() => {});
    return promise;
  };

  /** Deletes the keys `matching` keeps among those a SCAN of the prefix finds. */
  const scanAndDelete = async (matching: (key: string) => boolean): Promise<number> => {
    let deleted = 0;
    let cursor = "0";
    do {
      const [next, keys] = await track(client.scan(cursor, "MATCH", `${escapeGlob(keyPrefix)}*`, "COUNT", 1000));
      cursor = next;
      const doomed = keys.filter(matching);
      if (doomed.length > 0) deleted += await track(client.del(...doomed));
    } while (cursor !== "0");
    return deleted;
  };

  const evicting = async (work: () => Promise<number>): Promise<number | undefined> => {
    if (closed) return undefined;
    try {
      const deleted = await work();
      outage.succeeded();
      return deleted;
    } catch (error) {
      outage.failed(error);
      return undefined;
    }
  };

  return {
    get status() {
      return client.status;
    },
    evictChanged(issuer, serials) {
      if (serials === "everything") {
        // A key is the CertID DER in hex, which holds the issuer's key hash under its own algorithm.
        const keyHashes = [...issuer.hashes.values()].map((hashes) => hashes.keyHash.toString("hex"));
        return evicting(() => scanAndDelete((key) => keyHashes.some((hash) => key.includes(hash, keyPrefix.length))));
      }
      const keys: string[] = [];
      for (const serial of serials) for (const der of certIdEncodings(issuer, serial)) keys.push(keyPrefix + der.toString("hex"));
      return evicting(async () => {
        let deleted = 0;
        // DEL in slices: one command per thousand keys keeps each within the command timeout.
        for (let start = 0; start < keys.length; start += 1000) deleted += await track(client.del(...keys.slice(start, start + 1000)));
        return deleted;
      });
    },
    evictAll() {
      return evicting(() => scanAndDelete(() => true));
    },
    publish(channel, message) {
      return evicting(() => track(client.publish(channel, message)));
    },
    async get(id: CertId): Promise<CachedResponse | undefined> {
      if (closed) return undefined;
      let value: Buffer | null;
      try {
        value = await track(client.getBuffer(keyPrefix + cacheKey(id)));
      } catch (error) {
        outage.failed(error);
        return undefined;
      }
      outage.succeeded();
      if (value === null) return undefined;
      const stored = decodeValue(value);
      // The single response and ETag are read from the bytes once per hit (the memory tier keeps the record).
      return stored === undefined || stored.expiresAt <= clock.now() ? undefined : cachedResponse(stored);
    },
    async put(id, response) {
      if (closed) return;
      const row = issuers.rowFor(response.issuerNameDer);
      if (row === undefined) return;
      const now = clock.now();
      const expiresAt = Math.min(response.nextUpdate.getTime(), now + row.expiresAfter);
      const ttl = Math.floor(expiresAt - now);
      if (ttl <= 0) return;
      const value = encodeValue({ body: response.body, thisUpdate: response.thisUpdate, nextUpdate: response.nextUpdate, producedAt: response.producedAt, expiresAt });
      try {
        await track(scripted.setUnlessNewer(keyPrefix + cacheKey(id), value, ttl, response.thisUpdate.getTime(), response.producedAt.getTime()));
        outage.succeeded();
      } catch (error) {
        outage.failed(error);
      }
    },
    async close() {
      closed = true;
      // Writes in flight finish (each within the command timeout) before the connection goes.
      await Promise.allSettled([...pending]);
      client.disconnect();
    },
  };
}

/** `text` matched literally by a Redis glob pattern. */
function escapeGlob(text: string): string {
  return text.replace(/[*?[\]\\]/g, "\\$&");
}

function encodeValue(cached: StoredFields): Buffer {
  const value = Buffer.allocUnsafe(HEADER + cached.body.length);
  value[0] = VERSION;
  value.writeDoubleBE(cached.thisUpdate.getTime(), 1);
  value.writeDoubleBE(cached.nextUpdate.getTime(), 9);
  value.writeDoubleBE(cached.expiresAt, 17);
  value.writeDoubleBE(cached.producedAt.getTime(), 25);
  cached.body.copy(value, HEADER);
  return value;
}

/** `undefined` for a value this version did not write (another version, or garbage): a miss. */
function decodeValue(value: Buffer): StoredFields | undefined {
  if (value.length <= HEADER || value[0] !== VERSION) return undefined;
  const thisUpdate = value.readDoubleBE(1);
  const nextUpdate = value.readDoubleBE(9);
  const expiresAt = value.readDoubleBE(17);
  const producedAt = value.readDoubleBE(25);
  if (![thisUpdate, nextUpdate, expiresAt, producedAt].every(Number.isFinite)) return undefined;
  return { body: value.subarray(HEADER), thisUpdate: new Date(thisUpdate), nextUpdate: new Date(nextUpdate), producedAt: new Date(producedAt), expiresAt };
}
