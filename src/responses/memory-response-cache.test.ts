import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { fixedClock } from "../clock.ts";
import { ConfigError } from "../errors.ts";
import { DER_NULL, integer, octetString, oid, sequence } from "../ocsp/der-writer.ts";
import { HASH_ALGORITHM_OIDS } from "../ocsp/hash-algorithms.ts";
import type { CertId, HashAlgorithm } from "../ocsp/types.ts";
import { atv, name, printable, rdn, utf8 } from "../trust/test-support/name-der.ts";
import { cachedResponse } from "./cached-single.ts";
import { issuerTable, type IssuerRowConfig } from "./issuer-table.ts";
import { ENTRY_OVERHEAD_BYTES, memoryResponseCache } from "./memory-response-cache.ts";
import { responseCacheContract } from "./response-cache.contract.ts";
import type { ResponseToCache } from "./response-cache.ts";

const CN = "2.5.4.3";
const O = "2.5.4.10";
const C = "2.5.4.6";
const issuerName = (cn: string): Buffer => name(rdn(atv(C, printable("SE"))), rdn(atv(O, utf8("Acme"))), rdn(atv(CN, utf8(cn))));
const ACME_CA = issuerName("CA01");
const OTHER_CA = name(rdn(atv(C, printable("SE"))), rdn(atv(O, utf8("Other"))), rdn(atv(CN, utf8("CA01"))));

const MINUTE = 60_000;
const HOUR = 60 * MINUTE;
const START = Date.parse("2026-12-01T12:00:00Z");

/** A CertID and its DER, with the hash AlgorithmIdentifier's NULL parameters (OpenSSL) or without. */
function certId(serial: number, hashAlgorithm: HashAlgorithm = "sha1", issuerKeyHash = Buffer.alloc(20, 1), parameters: "null" | "absent" = "null"): CertId {
  const serialNumber = Buffer.from([0x10, (serial >> 8) & 0xff, serial & 0xff]);
  const issuerNameHash = Buffer.alloc(20, 2);
  const algorithm = parameters === "null" ? sequence(oid(HASH_ALGORITHM_OIDS[hashAlgorithm]), DER_NULL) : sequence(oid(HASH_ALGORITHM_OIDS[hashAlgorithm]));
  return { hashAlgorithm, issuerNameHash, issuerKeyHash, serialNumber, der: sequence(algorithm, octetString(issuerNameHash), octetString(issuerKeyHash), integer(serialNumber)) };
}

function response(options: { nextUpdateIn?: number; size?: number; issuer?: Buffer; tag?: number; thisUpdate?: number; producedAt?: number } = {}): ResponseToCache {
  return {
    body: Buffer.alloc(options.size ?? 100, options.tag ?? 0xab),
    thisUpdate: new Date(options.thisUpdate ?? START),
    producedAt: new Date(options.producedAt ?? options.thisUpdate ?? START),
    nextUpdate: new Date(START + (options.nextUpdateIn ?? 24 * HOUR)),
    issuerNameDer: options.issuer ?? ACME_CA,
  };
}

const ROWS: IssuerRowConfig[] = [{ issuer: "cn=*,o=Acme,c=SE", expiresAfter: HOUR }];

function setup(options: { maxCount?: number; maxBytes?: number; rows?: IssuerRowConfig[] } = {}) {
  const clock = fixedClock(START);
  const cache = memoryResponseCache({
    maxCount: options.maxCount ?? 100,
    maxBytes: options.maxBytes ?? 1_000_000,
    issuers: issuerTable(options.rows ?? ROWS, "issuers"),
    clock,
  });
  return { clock, cache };
}

responseCacheContract("memoryResponseCache", async ({ issuers, clock }) => memoryResponseCache({ maxCount: 100, maxBytes: 1_000_000, issuers, clock }));

describe("memoryResponseCache: what is kept and what is served", () => {
  test("serves the very bytes it was given, with their times and expiry", async () => {
    const { cache } = setup();
    const stored = response();
    await cache.put(certId(1), stored);
    const hit = await cache.get(certId(1));
    assert.ok(hit !== undefined);
    assert.equal(hit.body, stored.body, "the same Buffer, not a copy");
    assert.deepEqual(hit.thisUpdate, stored.thisUpdate);
    assert.deepEqual(hit.nextUpdate, stored.nextUpdate);
    assert.equal(hit.expiresAt, START + HOUR);
  });

  test("the key is the whole CertID as received: another hash algorithm, its parameters, issuer key hash or serial is a miss", async () => {
    const { cache } = setup();
    await cache.put(certId(1), response());
    assert.equal(await cache.get(certId(1, "sha256")), undefined);
    assert.equal(await cache.get(certId(1, "sha1", Buffer.alloc(20, 9))), undefined);
    assert.equal(await cache.get(certId(2)), undefined);
    assert.equal(await cache.get(certId(1, "sha1", Buffer.alloc(20, 1), "absent")), undefined);
    assert.ok(await cache.get(certId(1)));
    // Each encoding is an entry of its own.
    await cache.put(certId(1, "sha1", Buffer.alloc(20, 1), "absent"), response({ tag: 0xcd }));
    assert.equal((await cache.get(certId(1, "sha1", Buffer.alloc(20, 1), "absent")))?.body[0], 0xcd);
    assert.equal((await cache.get(certId(1)))?.body[0], 0xab);
  });

  test("newer never loses to older: a put or fill older than the live entry (thisUpdate, then producedAt) is dropped", async () => {
    const { cache, clock } = setup();
    await cache.put(certId(1), response({ tag: 1, thisUpdate: START, producedAt: START + 2000 }));
    await cache.put(certId(1), response({ tag: 2, thisUpdate: START - MINUTE, producedAt: START + 3000 }));
    assert.equal((await cache.get(certId(1)))?.body[0], 1, "an older thisUpdate loses");
    await cache.put(certId(1), response({ tag: 3, thisUpdate: START, producedAt: START + 1000 }));
    assert.equal((await cache.get(certId(1)))?.body[0], 1, "the same thisUpdate, produced earlier, loses");
    cache.fill(certId(1), cachedResponse({ ...response({ tag: 4, thisUpdate: START - 1 }), expiresAt: START + HOUR }));
    assert.equal((await cache.get(certId(1)))?.body[0], 1, "an older fill loses");
    await cache.put(certId(1), response({ tag: 5, thisUpdate: START, producedAt: START + 2000 }));
    assert.equal((await cache.get(certId(1)))?.body[0], 5, "as old: replaced (a renewal from the same data)");
    await cache.put(certId(1), response({ tag: 6, thisUpdate: START + 1000 }));
    assert.equal((await cache.get(certId(1)))?.body[0], 6, "newer: replaced");
    assert.equal(cache.count, 1);
    // An expired entry holds nothing back, however new it claims to be.
    await cache.put(certId(2), response({ tag: 7, thisUpdate: START + 1000, nextUpdateIn: MINUTE }));
    clock.set(START + 2 * MINUTE);
    await cache.put(certId(2), response({ tag: 8, thisUpdate: START }));
    assert.equal((await cache.get(certId(2)))?.body[0], 8);
  });

  test("issuers matching no row of the table are not cached", async () => {
    const { cache } = setup();
    await cache.put(certId(1), response({ issuer: OTHER_CA }));
    assert.equal(await cache.get(certId(1)), undefined);
    assert.equal(cache.count, 0);
  });

  test("the first matching row decides expiresAfter", async () => {
    const { cache } = setup({
      rows: [
        { issuer: "cn=CA01,o=Acme,c=SE", expiresAfter: 5 * MINUTE },
        { issuer: "*", expiresAfter: 2 * HOUR },
      ],
    });
    await cache.put(certId(1), response());
    await cache.put(certId(2), response({ issuer: issuerName("CA02") }));
    await cache.put(certId(3), response({ issuer: OTHER_CA }));
    assert.equal((await cache.get(certId(1)))?.expiresAt, START + 5 * MINUTE);
    assert.equal((await cache.get(certId(2)))?.expiresAt, START + 2 * HOUR);
    assert.equal((await cache.get(certId(3)))?.expiresAt, START + 2 * HOUR);
  });

  test("an entry lives until min(nextUpdate, stored + expiresAfter), on a fixed clock", async () => {
    const { cache, clock } = setup();
    await cache.put(certId(1), response({ nextUpdateIn: 10 * MINUTE })); // nextUpdate first
    await cache.put(certId(2), response()); // expiresAfter first
    clock.set(START + 10 * MINUTE - 1);
    assert.ok(await cache.get(certId(1)));
    clock.set(START + 10 * MINUTE);
    assert.equal(await cache.get(certId(1)), undefined, "gone at nextUpdate");
    clock.set(START + HOUR - 1);
    assert.ok(await cache.get(certId(2)));
    clock.set(START + HOUR);
    assert.equal(await cache.get(certId(2)), undefined, "gone at stored + expiresAfter");
    assert.equal(cache.count, 0);
  });

  test("expiresAfter counts from when it was stored, not from thisUpdate", async () => {
    const { cache, clock } = setup();
    clock.set(START + 30 * MINUTE);
    await cache.put(certId(1), response());
    assert.equal((await cache.get(certId(1)))?.expiresAt, START + 90 * MINUTE);
  });

  test("a response already past its nextUpdate is not kept", async () => {
    const { cache, clock } = setup();
    clock.set(START + 2 * HOUR);
    await cache.put(certId(1), response({ nextUpdateIn: HOUR }));
    assert.equal(cache.count, 0);
  });

  test("a put for the same CertID replaces the stored response", async () => {
    const { cache, clock } = setup();
    await cache.put(certId(1), response({ tag: 1 }));
    clock.advance(MINUTE);
    await cache.put(certId(1), response({ tag: 2 }));
    const hit = await cache.get(certId(1));
    assert.equal(hit?.body[0], 2);
    assert.equal(hit?.expiresAt, START + MINUTE + HOUR);
    assert.equal(cache.count, 1);
    assert.equal(cache.bytes, 100 + ENTRY_OVERHEAD_BYTES);
  });
});

describe("memoryResponseCache: limits and eviction", () => {
  test("when full by count, the next to expire is replaced", async () => {
    const { cache } = setup({ maxCount: 3 });
    await cache.put(certId(1), response({ nextUpdateIn: 30 * MINUTE }));
    await cache.put(certId(2), response({ nextUpdateIn: 10 * MINUTE }));
    await cache.put(certId(3), response({ nextUpdateIn: 20 * MINUTE }));
    await cache.put(certId(4), response());
    assert.equal(cache.count, 3);
    assert.equal(await cache.get(certId(2)), undefined, "the one closest to expiry went");
    for (const serial of [1, 3, 4]) assert.ok(await cache.get(certId(serial)), `serial ${serial} stays`);
    await cache.put(certId(5), response());
    assert.equal(await cache.get(certId(3)), undefined, "then the next closest");
  });

  test("when full, an expired entry is replaced before any live one", async () => {
    const { cache, clock } = setup({ maxCount: 3 });
    await cache.put(certId(1), response({ nextUpdateIn: 50 * MINUTE }));
    await cache.put(certId(2), response({ nextUpdateIn: 5 * MINUTE }));
    await cache.put(certId(3), response({ nextUpdateIn: 40 * MINUTE }));
    clock.set(START + 6 * MINUTE); // serial 2 has expired but was never asked for again
    await cache.put(certId(4), response());
    assert.equal(cache.count, 3);
    for (const serial of [1, 3, 4]) assert.ok(await cache.get(certId(serial)), `serial ${serial} stays`);
  });

  test("when full by bytes, entries closest to expiry go until the new one fits", async () => {
    const entry = 1000 + ENTRY_OVERHEAD_BYTES;
    const { cache } = setup({ maxBytes: 3 * entry });
    await cache.put(certId(1), response({ size: 1000, nextUpdateIn: 10 * MINUTE }));
    await cache.put(certId(2), response({ size: 1000, nextUpdateIn: 20 * MINUTE }));
    await cache.put(certId(3), response({ size: 1000, nextUpdateIn: 30 * MINUTE }));
    assert.equal(cache.bytes, 3 * entry);
    await cache.put(certId(4), response({ size: 1500 + ENTRY_OVERHEAD_BYTES }));
    assert.equal(await cache.get(certId(1)), undefined);
    assert.equal(await cache.get(certId(2)), undefined);
    assert.ok(await cache.get(certId(3)));
    assert.ok(await cache.get(certId(4)));
    assert.ok(cache.bytes <= 3 * entry);
  });

  test("a response larger than maxBytes is not kept and evicts nothing", async () => {
    const { cache } = setup({ maxBytes: 5000 });
    await cache.put(certId(1), response());
    await cache.put(certId(2), response({ size: 5000 }));
    assert.equal(await cache.get(certId(2)), undefined);
    assert.ok(await cache.get(certId(1)));
  });

  test("eviction order holds over many entries (heap order, not insertion order)", async () => {
    const { cache } = setup({ maxCount: 50, rows: [{ issuer: "*", expiresAfter: 24 * HOUR }] });
    // Expiries in a scrambled order; the 50 latest must survive 200 puts.
    const minutes = Array.from({ length: 200 }, (_, i) => 1 + ((i * 37) % 200));
    for (const [serial, minute] of minutes.entries()) await cache.put(certId(serial), response({ nextUpdateIn: minute * MINUTE }));
    assert.equal(cache.count, 50);
    for (const [serial, minute] of minutes.entries()) {
      assert.equal((await cache.get(certId(serial))) !== undefined, minute > 150, `serial ${serial} expiring at minute ${minute}`);
    }
  });

  test("limits are checked at construction", () => {
    assert.throws(() => setup({ maxCount: 0 }), (error: unknown) => error instanceof ConfigError && error.field === "maxCount");
    assert.throws(() => setup({ maxBytes: 1.5 }), (error: unknown) => error instanceof ConfigError && error.field === "maxBytes");
  });
});

describe("memoryResponseCache: renewal schedule and fills", () => {
  test("entries of a renewing row are due margin before they expire, each once, earliest first", async () => {
    const { cache, clock } = setup({ rows: [{ issuer: "*", expiresAfter: HOUR, renew: { margin: 10 * MINUTE } }] });
    await cache.put(certId(1), response({ nextUpdateIn: 30 * MINUTE }));
    await cache.put(certId(2), response());
    await cache.put(certId(3), response({ nextUpdateIn: 25 * MINUTE }));
    clock.set(START + 15 * MINUTE - 1);
    assert.deepEqual(cache.dueForRenewal(10), []);
    clock.set(START + 20 * MINUTE);
    assert.deepEqual(cache.dueForRenewal(10).map((id) => id.serialNumber[2]), [3, 1]);
    assert.deepEqual(cache.dueForRenewal(10), [], "handed out once");
    clock.set(START + 55 * MINUTE);
    assert.deepEqual(cache.dueForRenewal(10).map((id) => id.serialNumber[2]), [2]);
    await cache.put(certId(2), response());
    clock.set(START + 105 * MINUTE);
    assert.deepEqual(cache.dueForRenewal(1).map((id) => id.serialNumber[2]), [2], "a new put schedules it again");
  });

  test("an entry that expired before its renewal was handed out is dropped, not renewed", async () => {
    const { cache, clock } = setup({ rows: [{ issuer: "*", expiresAfter: HOUR, renew: { margin: 10 * MINUTE } }] });
    await cache.put(certId(1), response());
    clock.set(START + HOUR);
    assert.deepEqual(cache.dueForRenewal(10), []);
  });

  test("rows without renew schedule nothing", async () => {
    const { cache, clock } = setup();
    await cache.put(certId(1), response());
    clock.set(START + HOUR - 1);
    assert.deepEqual(cache.dueForRenewal(10), []);
  });

  test("fill keeps another tier's response with that tier's expiry, and never renews it", async () => {
    const { cache, clock } = setup({ rows: [{ issuer: "*", expiresAfter: HOUR, renew: { margin: 10 * MINUTE } }] });
    const body = Buffer.from("from redis");
    cache.fill(certId(1), cachedResponse({ body, thisUpdate: new Date(START), nextUpdate: new Date(START + HOUR), producedAt: new Date(START), expiresAt: START + 5 * MINUTE }));
    assert.equal((await cache.get(certId(1)))?.body, body);
    assert.ok(cache.has(certId(1)));
    clock.set(START + 5 * MINUTE);
    assert.deepEqual(cache.dueForRenewal(10), []);
    assert.equal(await cache.get(certId(1)), undefined);
    assert.equal(cache.has(certId(1)), false);
  });
});

describe("issuerTable", () => {
  test("a bad pattern or margin names its field", () => {
    assert.throws(() => issuerTable([{ issuer: "cn", expiresAfter: HOUR }], "responseCache.issuers"), (error: unknown) => error instanceof ConfigError && error.field === "responseCache.issuers[0].issuer");
    assert.throws(
      () => issuerTable([{ issuer: "*", expiresAfter: HOUR, renew: { margin: HOUR } }], "responseCache.issuers"),
      (error: unknown) => error instanceof ConfigError && error.field === "responseCache.issuers[0].renew.margin",
    );
  });
});

describe("memoryResponseCache: eviction on change (issue 14)", () => {
  /** An issuer whose CertID hashes are those certId() uses, under sha1 and sha256 (sha256 with another key hash). */
  const issuer = (keyByte = 1) => ({
    hashes: new Map<HashAlgorithm, { nameHash: Buffer; keyHash: Buffer }>([
      ["sha1", { nameHash: Buffer.alloc(20, 2), keyHash: Buffer.alloc(20, keyByte) }],
      ["sha256", { nameHash: Buffer.alloc(20, 2), keyHash: Buffer.alloc(20, keyByte) }],
    ]),
  });
  const serialOf = (serial: number) => Buffer.from([0x10, (serial >> 8) & 0xff, serial & 0xff]);

  test("a changed serial goes under every hash algorithm and encoding; other serials and issuers stay", async () => {
    const { cache } = setup();
    const changed = [certId(1), certId(1, "sha256"), certId(1, "sha1", Buffer.alloc(20, 1), "absent")];
    for (const id of changed) await cache.put(id, response());
    await cache.put(certId(2), response());
    await cache.put(certId(1, "sha1", Buffer.alloc(20, 9)), response());
    const dropped = cache.evictChanged(issuer(), [serialOf(1)]);
    assert.deepEqual(dropped.map((id) => id.der.toString("hex")).sort(), changed.map((id) => id.der.toString("hex")).sort());
    for (const id of changed) assert.equal(cache.peek(id), undefined);
    assert.ok(cache.peek(certId(2)) !== undefined, "another serial stays");
    assert.ok(cache.peek(certId(1, "sha1", Buffer.alloc(20, 9))) !== undefined, "the same serial of another issuer stays");
    assert.equal(cache.count, 2);
  });

  test("a padded serial in a change finds the minimal one held; everything drops only the issuer's entries", async () => {
    const { cache } = setup();
    await cache.put(certId(1), response());
    assert.equal(cache.evictChanged(issuer(), [Buffer.concat([Buffer.alloc(2), serialOf(1)])]).length, 1);
    for (const serial of [1, 2, 3]) await cache.put(certId(serial), response());
    await cache.put(certId(4, "sha1", Buffer.alloc(20, 9)), response());
    assert.equal(cache.evictChanged(issuer(), "everything").length, 3);
    assert.equal(cache.count, 1);
    assert.equal(cache.evictAll(), 1);
    assert.equal(cache.bytes, 0);
  });
});
