import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { fixedClock, type FixedClock } from "../clock.ts";
import { DER_NULL, integer, octetString, oid, sequence } from "../ocsp/der-writer.ts";
import { HASH_ALGORITHM_OIDS } from "../ocsp/hash-algorithms.ts";
import type { CertId, HashAlgorithm } from "../ocsp/types.ts";
import { atv, name, printable, rdn, utf8 } from "../trust/test-support/name-der.ts";
import { issuerTable, type IssuerTable } from "./issuer-table.ts";
import type { ResponseCache, ResponseToCache } from "./response-cache.ts";

/** What a cache under test is built with: the per-issuer table and the clock it must keep time by. */
export interface ContractCacheOptions {
  readonly issuers: IssuerTable;
  readonly clock: FixedClock;
}

const MINUTE = 60_000;
const HOUR = 60 * MINUTE;
const ACME_CA = name(rdn(atv("2.5.4.6", printable("SE"))), rdn(atv("2.5.4.10", utf8("Acme"))), rdn(atv("2.5.4.3", utf8("CA01"))));
const OTHER_CA = name(rdn(atv("2.5.4.6", printable("SE"))), rdn(atv("2.5.4.10", utf8("Other"))), rdn(atv("2.5.4.3", utf8("CA01"))));
const TABLE = issuerTable([{ issuer: "cn=*,o=Acme,c=SE", expiresAfter: HOUR }], "issuers");

/** A CertID and its DER, with the hash AlgorithmIdentifier's NULL parameters (OpenSSL) or without. */
function certId(serial: number, hashAlgorithm: HashAlgorithm = "sha1", issuerKeyHash = Buffer.alloc(20, 1), parameters: "null" | "absent" = "null"): CertId {
  const serialNumber = Buffer.from([0x10, (serial >> 8) & 0xff, serial & 0xff]);
  const issuerNameHash = Buffer.alloc(20, 2);
  const algorithm = parameters === "null" ? sequence(oid(HASH_ALGORITHM_OIDS[hashAlgorithm]), DER_NULL) : sequence(oid(HASH_ALGORITHM_OIDS[hashAlgorithm]));
  return { hashAlgorithm, issuerNameHash, issuerKeyHash, serialNumber, der: sequence(algorithm, octetString(issuerNameHash), octetString(issuerKeyHash), integer(serialNumber)) };
}

/** A response of `tag` repeated, produced at `start` unless told otherwise, valid two hours. */
function response(start: number, options: { tag?: number; thisUpdate?: number; producedAt?: number; nextUpdateIn?: number; issuer?: Buffer } = {}): ResponseToCache {
  const thisUpdate = options.thisUpdate ?? start;
  return {
    body: Buffer.alloc(300, options.tag ?? 0xab),
    thisUpdate: new Date(thisUpdate),
    producedAt: new Date(options.producedAt ?? thisUpdate),
    nextUpdate: new Date(start + (options.nextUpdateIn ?? 2 * HOUR)),
    issuerNameDer: options.issuer ?? ACME_CA,
  };
}

/**
 * The behaviours every ResponseCache (a tier or tiers composed) must have, run by each cache's test
 * file: it serves exactly what it was given under the whole CertID, keeps it until min(nextUpdate,
 * stored + expiresAfter) on its clock, never lets an older response replace a newer one, keeps
 * nothing of an issuer its table does not list, and `peek`, where offered, agrees with `get`.
 * `build` makes a cache of its own for each test (a Redis tier: its own key prefix); the contract
 * closes it.
 */
export function responseCacheContract(cacheName: string, build: (options: ContractCacheOptions) => Promise<ResponseCache>): void {
  describe(`${cacheName} (ResponseCache contract)`, () => {
    /** A cache on a fixed clock at a whole second of now (Redis keeps real time for its TTLs). */
    async function cache(): Promise<{ cache: ResponseCache; clock: FixedClock; start: number }> {
      const start = Math.floor(Date.now() / 1000) * 1000;
      const clock = fixedClock(start);
      return { cache: await build({ issuers: TABLE, clock }), clock, start };
    }

    test("serves the bytes and times it was given, until min(nextUpdate, stored + expiresAfter) on its clock", async () => {
      const { cache: under, clock, start } = await cache();
      const kept = response(start, { producedAt: start + 5 });
      await under.put(certId(1), kept);
      await under.put(certId(2), response(start, { tag: 2, nextUpdateIn: 10 * MINUTE }));
      const hit = await under.get(certId(1));
      assert.ok(hit !== undefined, "a hit");
      assert.ok(hit.body.equals(kept.body));
      assert.deepEqual([hit.thisUpdate, hit.nextUpdate, hit.producedAt], [kept.thisUpdate, kept.nextUpdate, kept.producedAt]);
      assert.equal(hit.expiresAt, start + HOUR, "expiresAfter first");
      assert.equal((await under.get(certId(2)))?.expiresAt, start + 10 * MINUTE, "nextUpdate first");
      clock.set(start + 10 * MINUTE - 1);
      assert.ok(await under.get(certId(2)), "live until its nextUpdate");
      clock.set(start + 10 * MINUTE);
      assert.equal(await under.get(certId(2)), undefined, "gone at nextUpdate");
      clock.set(start + HOUR - 1);
      assert.ok(await under.get(certId(1)), "live until stored + expiresAfter");
      clock.set(start + HOUR);
      assert.equal(await under.get(certId(1)), undefined, "gone at stored + expiresAfter");
      await under.close();
    });

    test("the key is the whole CertID as received: another hash algorithm, its parameters, issuer key hash or serial is a miss", async () => {
      const { cache: under, start } = await cache();
      await under.put(certId(1), response(start));
      assert.equal(await under.get(certId(1, "sha256")), undefined);
      assert.equal(await under.get(certId(1, "sha1", Buffer.alloc(20, 9))), undefined);
      assert.equal(await under.get(certId(2)), undefined);
      assert.equal(await under.get(certId(1, "sha1", Buffer.alloc(20, 1), "absent")), undefined);
      await under.put(certId(1, "sha1", Buffer.alloc(20, 1), "absent"), response(start, { tag: 0xcd }));
      assert.equal((await under.get(certId(1, "sha1", Buffer.alloc(20, 1), "absent")))?.body[0], 0xcd, "each encoding is an entry of its own");
      assert.equal((await under.get(certId(1)))?.body[0], 0xab);
      await under.close();
    });

    test("newer never loses to older: an older thisUpdate, or the same one produced earlier, leaves the response held", async () => {
      const { cache: under, start } = await cache();
      await under.put(certId(3), response(start, { tag: 1, thisUpdate: start, producedAt: start + 2000 }));
      await under.put(certId(3), response(start, { tag: 2, thisUpdate: start - MINUTE, producedAt: start + 3000 }));
      assert.equal((await under.get(certId(3)))?.body[0], 1, "an older thisUpdate loses");
      await under.put(certId(3), response(start, { tag: 3, thisUpdate: start, producedAt: start + 1000 }));
      assert.equal((await under.get(certId(3)))?.body[0], 1, "the same thisUpdate, produced earlier, loses");
      await under.put(certId(3), response(start, { tag: 4, thisUpdate: start + 1000 }));
      assert.equal((await under.get(certId(3)))?.body[0], 4, "a newer one replaces it");
      await under.close();
    });

    test("nothing is kept of an issuer no row of the table lists, nor a response already past its nextUpdate", async () => {
      const { cache: under, clock, start } = await cache();
      await under.put(certId(4), response(start, { issuer: OTHER_CA }));
      assert.equal(await under.get(certId(4)), undefined, "an issuer of no row");
      clock.set(start + 3 * HOUR);
      await under.put(certId(5), response(start));
      assert.equal(await under.get(certId(5)), undefined, "past its nextUpdate");
      await under.close();
    });

    test("peek, where the cache offers it, answers from memory what get answers", async (t) => {
      const { cache: under, start } = await cache();
      if (under.peek === undefined) {
        t.diagnostic("no peek: every answer takes get");
        await under.close();
        return;
      }
      assert.equal(under.peek(certId(6)), undefined);
      const kept = response(start);
      await under.put(certId(6), kept);
      assert.ok(under.peek(certId(6))?.body.equals(kept.body));
      assert.equal(under.peek(certId(6))?.expiresAt, (await under.get(certId(6)))?.expiresAt);
      await under.close();
    });
  });
}
