import assert from "node:assert/strict";
import { randomBytes } from "node:crypto";
import { after, before, describe, test } from "node:test";
import { Redis } from "ioredis";
import { fixedClock, systemClock, type Clock } from "../clock.ts";
import { ConfigError } from "../errors.ts";
import { recordingLogger, silentLogger, type Logger } from "../observability/logger.ts";
import type { CertId } from "../ocsp/types.ts";
import { atv, name, rdn, utf8 } from "../trust/test-support/name-der.ts";
import { startPrivateRedis, type PrivateRedis } from "../../test/support/redis-server.ts";
import { cacheKey } from "./cache-key.ts";
import { issuerTable, type IssuerTable } from "./issuer-table.ts";
import { memoryResponseCache } from "./memory-response-cache.ts";
import { redisResponseCache, type RedisResponseCache } from "./redis-response-cache.ts";
import { responseCacheContract, type ContractCacheOptions } from "./response-cache.contract.ts";
import type { ResponseToCache } from "./response-cache.ts";
import { tieredResponseCache } from "./tiered-response-cache.ts";

const SHARED = "redis://127.0.0.1:6379";
const PREFIX = `vouch-test:${randomBytes(6).toString("hex")}:`;
const HOUR = 3_600_000;
const ACME = name(rdn(atv("2.5.4.10", utf8("Acme"))), rdn(atv("2.5.4.3", utf8("CA01"))));
const OTHER = name(rdn(atv("2.5.4.10", utf8("Other"))), rdn(atv("2.5.4.3", utf8("CA01"))));
const table = issuerTable([{ issuer: "cn=*,o=Acme", expiresAfter: HOUR }], "issuers");

function certId(serial: number): CertId {
  return { hashAlgorithm: "sha256", issuerNameHash: Buffer.alloc(32, 2), issuerKeyHash: Buffer.alloc(32, 3), serialNumber: Buffer.from([serial]), der: Buffer.from([serial]) };
}

function response(now: number, issuer = ACME, ages: { thisUpdate?: number; producedAt?: number } = {}): ResponseToCache {
  const thisUpdate = ages.thisUpdate ?? now - 1000;
  return { body: randomBytes(1500), thisUpdate: new Date(thisUpdate), nextUpdate: new Date(now + 2 * HOUR), producedAt: new Date(ages.producedAt ?? thisUpdate), issuerNameDer: issuer };
}

const opened: RedisResponseCache[] = [];
function tier(options: { url?: string; clock?: Clock; logger?: Logger; timeoutMs?: number; logIntervalMs?: number; keyPrefix?: string; issuers?: IssuerTable } = {}): RedisResponseCache {
  const cache = redisResponseCache({
    url: options.url ?? SHARED,
    keyPrefix: options.keyPrefix ?? PREFIX,
    timeoutMs: options.timeoutMs ?? 200,
    logIntervalMs: options.logIntervalMs ?? 60_000,
    issuers: options.issuers ?? table,
    clock: options.clock ?? systemClock,
    logger: options.logger ?? silentLogger,
  });
  opened.push(cache);
  return cache;
}

async function until(condition: () => boolean | Promise<boolean>, what: string): Promise<void> {
  const deadline = Date.now() + 15_000;
  while (!(await condition())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

let inspect: Redis;
before(() => {
  inspect = new Redis(SHARED);
});
after(async () => {
  await Promise.all(opened.map((cache) => cache.close()));
  const keys = await inspect.keys(`${PREFIX}*`);
  if (keys.length > 0) await inspect.del(...keys);
  inspect.disconnect();
});

let contractPrefixes = 0;
/** A Redis tier of its own (a key prefix per cache, under this run's), once connected. */
async function contractTier(options: ContractCacheOptions): Promise<RedisResponseCache> {
  contractPrefixes += 1;
  const cache = tier({ ...options, keyPrefix: `${PREFIX}contract${contractPrefixes}:` });
  await until(() => cache.status === "ready", "redis");
  return cache;
}

responseCacheContract("redisResponseCache", contractTier);
responseCacheContract("tieredResponseCache (memory, then Redis)", async (options) =>
  tieredResponseCache(memoryResponseCache({ maxCount: 100, maxBytes: 1_000_000, ...options }), await contractTier(options)),
);

describe("redisResponseCache against the shared Redis", () => {
  test("a put is read back byte for byte, under the memory key behind the prefix, with a TTL ending at the expiry", async () => {
    const cache = tier();
    await until(() => cache.status === "ready", "redis");
    const now = Date.now();
    const stored = response(now);
    await cache.put(certId(1), stored);
    const hit = await cache.get(certId(1));
    assert.ok(hit !== undefined);
    assert.ok(hit.body.equals(stored.body));
    assert.deepEqual(hit.thisUpdate, stored.thisUpdate);
    assert.deepEqual(hit.nextUpdate, stored.nextUpdate);
    assert.deepEqual(hit.producedAt, stored.producedAt);
    assert.ok(hit.expiresAt >= now + HOUR && hit.expiresAt <= Date.now() + HOUR, "min(nextUpdate, stored + expiresAfter)");
    const ttl = await inspect.pttl(PREFIX + cacheKey(certId(1)));
    assert.ok(ttl > HOUR - 60_000 && ttl <= HOUR, `PTTL ${ttl}`);
  });

  test("issuers matching no row are not written", async () => {
    const cache = tier();
    await until(() => cache.status === "ready", "redis");
    await cache.put(certId(2), response(Date.now(), OTHER));
    assert.equal(await inspect.exists(PREFIX + cacheKey(certId(2))), 0);
    assert.equal(await cache.get(certId(2)), undefined);
  });

  test("a value past its expiry on the reader's clock is a miss, and a value it cannot read is a miss", async () => {
    const clock = fixedClock(Date.now());
    const cache = tier({ clock });
    await until(() => cache.status === "ready", "redis");
    await cache.put(certId(3), response(clock.now()));
    assert.ok(await cache.get(certId(3)));
    clock.advance(HOUR);
    assert.equal(await cache.get(certId(3)), undefined);
    await inspect.set(PREFIX + cacheKey(certId(4)), "garbage", "PX", 60_000);
    assert.equal(await cache.get(certId(4)), undefined);
  });

  test("two instances: one stores, the other serves it from Redis and keeps it in its memory", async () => {
    const clock = systemClock;
    const memoryA = memoryResponseCache({ maxCount: 10, maxBytes: 1_000_000, issuers: table, clock });
    const memoryB = memoryResponseCache({ maxCount: 10, maxBytes: 1_000_000, issuers: table, clock });
    const redisA = tier();
    const redisB = tier();
    await until(() => redisA.status === "ready" && redisB.status === "ready", "redis");
    const a = tieredResponseCache(memoryA, redisA);
    const b = tieredResponseCache(memoryB, redisB);
    const stored = response(Date.now());
    await a.put(certId(5), stored);
    assert.equal(memoryB.count, 0);
    const hit = await b.get(certId(5));
    assert.ok(hit?.body.equals(stored.body));
    assert.equal(memoryB.count, 1, "filled on the Redis hit");
    assert.equal((await memoryB.get(certId(5)))?.expiresAt, hit?.expiresAt, "with the expiry Redis gave it");
  });

  test("newer never loses to older: a write older than the value held (thisUpdate, then producedAt) leaves it, across instances", async () => {
    const a = tier();
    const b = tier();
    await until(() => a.status === "ready" && b.status === "ready", "redis");
    const now = Date.now();
    const newer = response(now, ACME, { thisUpdate: now - 1000, producedAt: now });
    await a.put(certId(9), newer);
    await b.put(certId(9), response(now, ACME, { thisUpdate: now - 60_000, producedAt: now + 5000 }));
    assert.ok((await b.get(certId(9)))?.body.equals(newer.body), "an older thisUpdate loses");
    await b.put(certId(9), response(now, ACME, { thisUpdate: now - 1000, producedAt: now - 1000 }));
    assert.ok((await a.get(certId(9)))?.body.equals(newer.body), "the same thisUpdate, produced earlier, loses");
    const newest = response(now, ACME, { thisUpdate: now, producedAt: now });
    await b.put(certId(9), newest);
    assert.ok((await a.get(certId(9)))?.body.equals(newest.body), "a newer one replaces it");
    // A value of the previous layout (version 1, no producedAt) is a miss, and is replaced.
    await inspect.set(PREFIX + cacheKey(certId(10)), Buffer.concat([Buffer.from([1]), Buffer.alloc(24), Buffer.from("old")]), "PX", 60_000);
    assert.equal(await a.get(certId(10)), undefined);
    await a.put(certId(10), newest);
    assert.ok((await a.get(certId(10)))?.body.equals(newest.body));
  });

  test("tiered: an older response offered to an instance that took a newer one from Redis changes neither tier", async () => {
    const clock = systemClock;
    const memoryB = memoryResponseCache({ maxCount: 10, maxBytes: 1_000_000, issuers: table, clock });
    const redisA = tier();
    const redisB = tier();
    await until(() => redisA.status === "ready" && redisB.status === "ready", "redis");
    const a = tieredResponseCache(memoryResponseCache({ maxCount: 10, maxBytes: 1_000_000, issuers: table, clock }), redisA);
    const b = tieredResponseCache(memoryB, redisB);
    const now = Date.now();
    const newer = response(now, ACME, { thisUpdate: now });
    await a.put(certId(11), newer);
    assert.ok((await b.get(certId(11)))?.body.equals(newer.body));
    await b.put(certId(11), response(now, ACME, { thisUpdate: now - 30_000 }));
    assert.ok((await memoryB.get(certId(11)))?.body.equals(newer.body), "memory");
    assert.ok((await redisB.get(certId(11)))?.body.equals(newer.body), "redis");
  });

  test("options are checked", () => {
    assert.throws(() => tier({ url: "http://127.0.0.1:6379" }), (error: unknown) => error instanceof ConfigError && error.field === "url");
    assert.throws(() => tier({ timeoutMs: 0 }), (error: unknown) => error instanceof ConfigError && error.field === "timeoutMs");
  });
});

describe("redisResponseCache when Redis goes away (a private redis-server)", () => {
  let redis: PrivateRedis;
  before(async () => {
    redis = await startPrivateRedis();
  });
  after(async () => {
    await redis.stop();
  });

  test("down: misses and dropped writes, one warning per interval, then it reconnects by itself", async () => {
    const clock = fixedClock(Date.now());
    const logger = recordingLogger();
    const cache = tier({ url: redis.url, clock, logger, logIntervalMs: 60_000 });
    await until(() => cache.status === "ready", "redis");
    const stored = response(clock.now());
    await cache.put(certId(1), stored);
    assert.ok(await cache.get(certId(1)));

    await redis.stop();
    await until(() => cache.status !== "ready", "the client to see the outage");
    for (let i = 0; i < 50; i++) {
      assert.equal(await cache.get(certId(1)), undefined);
      await cache.put(certId(2), stored);
    }
    const warnings = () => logger.records.filter((record) => record.level === "warn");
    assert.equal(warnings().length, 1, JSON.stringify(warnings()));
    assert.match(warnings()[0]!.message, /redis unavailable/);
    clock.advance(60_000);
    await cache.get(certId(1));
    assert.equal(warnings().length, 2, "the next interval logs again, with the count of failures");
    assert.ok((warnings()[1]!.fields.failures as number) >= 100);

    await redis.start();
    await until(async () => (await cache.get(certId(1))) === undefined && cache.status === "ready", "reconnection");
    await cache.put(certId(3), stored);
    assert.ok((await cache.get(certId(3)))?.body.equals(stored.body), "works again after the restart");
    assert.ok(logger.records.some((record) => record.message === "redis available again"));
  });

  test("slow: a command that takes longer than the timeout is a miss", async () => {
    const cache = tier({ url: redis.url, timeoutMs: 100 });
    await until(() => cache.status === "ready", "redis");
    const stored = response(Date.now());
    await cache.put(certId(7), stored);
    redis.pause();
    try {
      assert.equal(await cache.get(certId(7)), undefined);
      await cache.put(certId(8), stored);
    } finally {
      redis.resume();
    }
    await until(async () => (await cache.get(certId(7))) !== undefined, "answers once Redis is back");
  });
});
