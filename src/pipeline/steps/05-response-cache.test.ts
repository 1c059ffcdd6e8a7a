/**
 * Step 5 with hand-written fakes: for a served issuer the sources decide before any cached response
 * (SPEC step 5, issue 12), for another issuer a cached (forwarded) response is served as stored.
 */
import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { TryLaterError } from "../../errors.ts";
import type { CertId, CertStatus } from "../../ocsp/types.ts";
import { cachedResponse } from "../../responses/cached-single.ts";
import type { CachedResponse, ResponseCache } from "../../responses/response-cache.ts";
import type { StatusAnswer, StatusSource } from "../../status/status-source.ts";
import { createExchange } from "../exchange.ts";
import type { ServedIssuer } from "../../issuers/issuer-directory.ts";
import { responseCacheStep } from "./05-response-cache.ts";

const CERT_ID: CertId = {
  hashAlgorithm: "sha1",
  issuerNameHash: Buffer.alloc(20, 1),
  issuerKeyHash: Buffer.alloc(20, 2),
  serialNumber: Buffer.from([0x10]),
  der: Buffer.from("3021300906052b0e03021a0500", "hex"),
};
const NOW = new Date("2025-06-01T12:00:00Z");
const REVOKED_AT = new Date("2025-05-01T00:00:00Z");

/** A cached response whose single response says `status`. */
function cachedSaying(status: CertStatus): CachedResponse {
  const body = Buffer.from(`response saying ${status.kind}`);
  const single = { certIdDer: CERT_ID.der, status, thisUpdate: NOW, nextUpdate: new Date(NOW.getTime() + 3_600_000), invalidityDate: undefined, extensions: [] };
  return cachedResponse({ body, thisUpdate: NOW, nextUpdate: new Date(NOW.getTime() + 3_600_000), producedAt: NOW, expiresAt: NOW.getTime() + 3_600_000 }, { single });
}

/** A cache holding `cached` for every CertID, in memory (`peek`) or only remotely. */
function holding(cached: CachedResponse, where: "memory" | "remote"): ResponseCache {
  return {
    ...(where === "memory" ? { peek: () => cached } : {}),
    get: async () => cached,
    put: async () => {},
    close: async () => {},
  };
}

/** A source answering `answer` (at once, or later), or throwing it. */
function answers(answer: StatusAnswer | undefined | Error, timing: "at once" | "later" = "at once"): StatusSource {
  return {
    status: () => {
      if (answer instanceof Error) {
        if (timing === "later") return Promise.reject(answer);
        throw answer;
      }
      return timing === "later" ? Promise.resolve(answer) : answer;
    },
  };
}

/** The CertID's served issuer, answering with `source`, or none (an issuer this responder does not serve). */
function serving(source: StatusSource | undefined): ServedIssuer | undefined {
  return source === undefined ? undefined : ({ name: "CA", source } as unknown as ServedIssuer);
}

/** Runs step 5 on a decoded request for CERT_ID whose served issuer (exchange.servedIssuers) is `issuer`. */
async function served(cached: CachedResponse, issuer: ServedIssuer | undefined, where: "memory" | "remote" = "memory"): Promise<boolean> {
  const exchange = createExchange({ received: Buffer.alloc(0), method: "POST", clientAddress: "127.0.0.1", ifNoneMatch: undefined, signal: new AbortController().signal, startedAt: NOW.getTime() });
  exchange.request = {
    tbsRequestDer: Buffer.alloc(0),
    requestorName: undefined,
    requests: [{ certId: CERT_ID, extensions: [] }],
    extensions: [],
    nonce: undefined,
    preferredSignatureAlgorithms: [],
    signature: undefined,
  };
  exchange.servedIssuers = [issuer];
  await responseCacheStep({ cache: holding(cached, where) }).run(exchange);
  if (exchange.response === undefined) return false;
  assert.ok(exchange.response.body.equals(cached.body));
  assert.equal(exchange.source, "cache");
  return true;
}

const good: StatusAnswer = { kind: "good", thisUpdate: NOW };
const revoked: StatusAnswer = { kind: "revoked", thisUpdate: NOW, revokedAt: REVOKED_AT, reason: "keyCompromise" };

describe("step 5: the response cache", () => {
  test("for a served issuer, a cached response is served only while the sources say the same", async () => {
    const cachedGood = cachedSaying({ kind: "good" });
    const cachedRevoked = cachedSaying({ kind: "revoked", revokedAt: REVOKED_AT, reason: "keyCompromise" });
    const cases: [string, CachedResponse, StatusSource, boolean][] = [
      ["good, sources good", cachedGood, answers(good), true],
      ["good, sources revoked (a revocation it predates)", cachedGood, answers(revoked), false],
      ["good, sources revoked, answered later", cachedGood, answers(revoked, "later"), false],
      ["good, sources not-issued", cachedGood, answers({ kind: "not-issued", thisUpdate: NOW }), false],
      ["good, sources without data", cachedGood, answers(undefined), false],
      ["good, sources stale (step 7 says tryLater)", cachedGood, answers(new TryLaterError("stale")), false],
      ["good, sources stale, answered later", cachedGood, answers(new TryLaterError("stale"), "later"), false],
      ["revoked, sources revoked", cachedRevoked, answers(revoked), true],
      ["revoked, sources revoked at another time", cachedRevoked, answers({ ...revoked, revokedAt: NOW }), false],
      ["revoked, sources good (a hold released)", cachedRevoked, answers(good), false],
      ["revoked, sources not-issued", cachedRevoked, answers({ kind: "not-issued", thisUpdate: NOW }), true],
    ];
    for (const [name, cached, source, expected] of cases) {
      assert.equal(await served(cached, serving(source)), expected, name);
      assert.equal(await served(cached, serving(source), "remote"), expected, `${name} (remote tier)`);
    }
  });

  test("for an issuer this responder does not serve, the cached (forwarded) response is served as stored", async () => {
    assert.equal(await served(cachedSaying({ kind: "good" }), serving(undefined)), true);
  });
});
