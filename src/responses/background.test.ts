/**
 * Background signing for the response cache: the token bucket, renewing (SPEC §6 "refreshed that
 * long before they expire") and pre-production, on a fixed clock with hand-written producers.
 */
import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";
import { fixedClock, type FixedClock } from "../clock.ts";
import { ConfigError, TryLaterError } from "../errors.ts";
import { encodeCertId, issuerHashes } from "../ocsp/cert-id.ts";
import { certificateFields } from "../ocsp/certificate-fields.ts";
import type { CertId } from "../ocsp/types.ts";
import { makeTestPki, type TestPki } from "../ocsp/test-support/test-pki.ts";
import { recordingLogger, silentLogger } from "../observability/logger.ts";
import { memorySource } from "../status/memory-source.ts";
import { issuerTable } from "./issuer-table.ts";
import { memoryResponseCache, type MemoryResponseCache } from "./memory-response-cache.ts";
import { startPreProduction } from "./pre-producer.ts";
import { startRenewer } from "./renewer.ts";
import type { ResponseToCache } from "./response-cache.ts";
import type { ResponseProducer } from "./response-producer.ts";
import { tokenBucket } from "./token-bucket.ts";

const MINUTE = 60_000;
const HOUR = 60 * MINUTE;
const START = Date.parse("2026-12-01T12:00:00Z");

let pki: TestPki;
let issuerName: Buffer;
before(() => {
  pki = makeTestPki();
  issuerName = certificateFields(pki.caDer).subjectDer;
});
after(() => pki.cleanup());

function certId(serial: number): CertId {
  return { hashAlgorithm: "sha1", issuerNameHash: Buffer.alloc(20, 1), issuerKeyHash: Buffer.alloc(20, 2), serialNumber: Buffer.from([serial]), der: Buffer.from([serial]) };
}

/** A producer that signs nothing: each response's body names the CertID's serial and a counter. */
function produces(clock: FixedClock): ResponseProducer & { readonly calls: CertId[] } {
  const calls: CertId[] = [];
  return {
    calls,
    async produce(id) {
      calls.push(id);
      return { body: Buffer.from(`${id.serialNumber.toString("hex")}#${calls.length}`), thisUpdate: new Date(clock.now()), nextUpdate: new Date(clock.now() + 2 * HOUR), producedAt: new Date(clock.now()), issuerNameDer: issuerName };
    },
  };
}

function failing(error: Error): ResponseProducer {
  return { produce: () => Promise.reject(error) };
}

const notServing: ResponseProducer = { produce: async () => undefined };

function memory(clock: FixedClock, maxCount = 100): MemoryResponseCache {
  const table = issuerTable([{ issuer: "*", expiresAfter: HOUR, renew: { margin: 10 * MINUTE } }], "issuers");
  return memoryResponseCache({ maxCount, maxBytes: 1_000_000, issuers: table, clock });
}

const stored = (clock: FixedClock, tag: string): ResponseToCache => ({
  body: Buffer.from(tag),
  thisUpdate: new Date(clock.now()),
  nextUpdate: new Date(clock.now() + 2 * HOUR),
  producedAt: new Date(clock.now()),
  issuerNameDer: issuerName,
});

describe("tokenBucket", () => {
  test("starts full, refills at perSecond, never above burst", () => {
    const clock = fixedClock(START);
    const bucket = tokenBucket({ perSecond: 2, burst: 3 }, clock);
    assert.deepEqual([bucket.take(), bucket.take(), bucket.take(), bucket.take()], [true, true, true, false]);
    assert.equal(bucket.msUntilNext(), 500);
    clock.advance(500);
    assert.deepEqual([bucket.take(), bucket.take()], [true, false]);
    clock.advance(60_000);
    assert.deepEqual([bucket.take(), bucket.take(), bucket.take(), bucket.take()], [true, true, true, false]);
  });

  test("rates are checked", () => {
    assert.throws(() => tokenBucket({ perSecond: 0, burst: 1 }, fixedClock(START)), ConfigError);
    assert.throws(() => tokenBucket({ perSecond: 1, burst: 0.5 }, fixedClock(START)), ConfigError);
  });
});

describe("renewer", () => {
  test("renews entries margin before expiry, no sooner, as fast as the bucket allows", async () => {
    const clock = fixedClock(START);
    const cache = memory(clock);
    for (const serial of [1, 2, 3]) await cache.put(certId(serial), stored(clock, `old-${serial}`));
    const producer = produces(clock);
    const renewer = startRenewer({ memory: cache, cache, producer, bucket: tokenBucket({ perSecond: 1, burst: 2 }, clock), clock, logger: silentLogger, tickMs: 0 });
    clock.set(START + 50 * MINUTE - 1);
    assert.equal(await renewer.runOnce(), 0, "not yet due");
    clock.set(START + 50 * MINUTE);
    assert.equal(await renewer.runOnce(), 2, "the bucket's burst");
    assert.equal(await renewer.runOnce(), 0, "no token left");
    clock.advance(1000);
    assert.equal(await renewer.runOnce(), 1, "one more token, the last due entry");
    for (const serial of [1, 2, 3]) {
      const hit = await cache.get(certId(serial));
      assert.match(hit!.body.toString(), new RegExp(`^0${serial}#`), "the renewed response replaced the old one");
      assert.ok(hit!.expiresAt >= START + 50 * MINUTE + HOUR, "stored again for a full expiresAfter");
    }
    // Past the old expiry, the renewed entries are still served: no client had to ask.
    clock.set(START + 70 * MINUTE);
    assert.ok(await cache.get(certId(1)));
    await renewer.close();
  });

  test("a failing producer leaves the entry to expire and logs once per interval", async () => {
    const clock = fixedClock(START);
    const cache = memory(clock);
    for (const serial of [1, 2, 3]) await cache.put(certId(serial), stored(clock, "old"));
    const logger = recordingLogger();
    const renewer = startRenewer({ memory: cache, cache, producer: failing(new TryLaterError("stale data")), bucket: tokenBucket({ perSecond: 100, burst: 100 }, clock), clock, logger, tickMs: 0 });
    clock.set(START + 55 * MINUTE);
    assert.equal(await renewer.runOnce(), 0);
    assert.equal((await cache.get(certId(1)))?.body.toString(), "old");
    assert.equal(logger.records.filter((record) => record.level === "warn").length, 1);
    clock.set(START + HOUR);
    assert.equal(await cache.get(certId(1)), undefined, "expired as it would have without renewing");
    await renewer.close();
  });

  test("an issuer no producer serves is not renewed", async () => {
    const clock = fixedClock(START);
    const cache = memory(clock);
    await cache.put(certId(1), stored(clock, "old"));
    const renewer = startRenewer({ memory: cache, cache, producer: notServing, bucket: tokenBucket({ perSecond: 100, burst: 100 }, clock), clock, logger: silentLogger, tickMs: 0 });
    clock.set(START + 55 * MINUTE);
    assert.equal(await renewer.runOnce(), 0);
    await renewer.close();
  });
});

describe("pre-production", () => {
  const serials = ["01", "0A", "7F", "80", "8F0123456789ABCDEF"];
  const source = (clock: FixedClock) => memorySource({ issuer: pki.caDer, entries: new Map(serials.map((serial) => [serial, { kind: "good" as const }])), listsIssued: true, clock });

  test("stores a response for every serial the source lists, for each hash algorithm, under the CertID a client sends", async () => {
    const clock = fixedClock(START);
    const cache = memory(clock);
    const producer = produces(clock);
    const listed = source(clock);
    const run = startPreProduction({
      issuers: [{ name: "CA", certificate: pki.caDer, serials: () => listed.serials!(), hashAlgorithms: ["sha1", "sha256"] }],
      memory: cache, cache, producer, bucket: tokenBucket({ perSecond: 1000, burst: 1000 }, clock), clock, logger: silentLogger, rescanIntervalMs: 0,
    });
    assert.equal(await run.firstPass, 10);
    assert.equal(cache.count, 10);
    for (const algorithm of ["sha1", "sha256"] as const) {
      const hashes = issuerHashes(pki.caDer).get(algorithm)!;
      for (const serial of serials) {
        // What a client sends: minimal INTEGER content (0x80 needs its leading zero octet).
        const serialNumber = Buffer.from(serial.length % 2 === 0 ? serial : `0${serial}`, "hex");
        const content = serialNumber[0]! >= 0x80 ? Buffer.concat([Buffer.of(0), serialNumber]) : serialNumber;
        const id: CertId = { hashAlgorithm: algorithm, issuerNameHash: hashes.nameHash, issuerKeyHash: hashes.keyHash, serialNumber: content, der: encodeCertId(algorithm, pki.caDer, content) };
        assert.ok(await cache.get(id), `${algorithm} ${serial}`);
      }
    }
    // The CertIDs handed to the producer are well-formed DER that a SingleResponse can echo.
    assert.ok(producer.calls.every((id) => id.der[0] === 0x30));
    await run.close();
  });

  test("skips what the cache holds, and stops when the cache is full", async () => {
    const clock = fixedClock(START);
    const cache = memory(clock, 3);
    const producer = produces(clock);
    const listed = source(clock);
    const logger = recordingLogger();
    const options = {
      issuers: [{ name: "CA", certificate: pki.caDer, serials: () => listed.serials!(), hashAlgorithms: ["sha1" as const] }],
      memory: cache, cache, producer, bucket: tokenBucket({ perSecond: 1000, burst: 1000 }, clock), clock, logger, rescanIntervalMs: 0,
    };
    assert.equal(await startPreProduction(options).firstPass, 3);
    assert.ok(logger.records.some((record) => record.message.startsWith("response cache full")));
    assert.equal(await startPreProduction(options).firstPass, 0, "the second run finds them held and the cache still full");
    assert.equal(producer.calls.length, 3);
  });
});
