import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { DER_NULL, oid, sequence } from "../ocsp/der-writer.ts";
import { encodeBasicOcspResponse, encodeResponseData } from "../ocsp/encode-response.ts";
import { responderIdByKey } from "../ocsp/responder-id.ts";
import { id_pkix_ocsp_nonce } from "../ocsp/oids.ts";
import type { CertId, SingleResponse } from "../ocsp/types.ts";
import { certIdFor } from "../status/test-support/cert-id-fixture.ts";
import { makeTestPki } from "../ocsp/test-support/test-pki.ts";
import { cachedResponse, singleOf } from "./cached-single.ts";
import { responseEtag } from "./response-etag.ts";
import type { CachedResponse } from "./response-cache.ts";

const pki = makeTestPki();
const issuer = pki.caDer;
pki.cleanup();
const THIS_UPDATE = new Date("2026-12-01T12:00:00Z");
const NEXT_UPDATE = new Date("2026-12-01T13:00:00Z");
// The decoder reads; it does not verify: a fixed fake signature is enough here.
const ECDSA_SHA256 = sequence(oid("1.2.840.10045.4.3.2"));

function body(ids: readonly CertId[], extensions: { oid: string; critical: boolean; value: Buffer }[] = []): Buffer {
  const responses: SingleResponse[] = ids.map((id) => ({
    certIdDer: id.der,
    status: { kind: "revoked", revokedAt: new Date("2026-11-01T00:00:00Z"), reason: "keyCompromise" },
    thisUpdate: THIS_UPDATE,
    nextUpdate: NEXT_UPDATE,
    invalidityDate: new Date("2026-10-31T00:00:00Z"),
    extensions: [],
  }));
  const tbs = encodeResponseData({ responderIdDer: responderIdByKey({ subjectPublicKey: Buffer.alloc(65, 4) }), producedAt: THIS_UPDATE, responses, extensions });
  return encodeBasicOcspResponse(tbs, ECDSA_SHA256, Buffer.alloc(64, 1), []);
}

/** `id` with its hash AlgorithmIdentifier's NULL parameters left out (30 09 06 05 … 05 00 → 30 07 06 05 …). */
function withoutParameters(id: CertId): CertId {
  const der = Buffer.concat([Buffer.from([0x30, id.der[1]! - 2, 0x30, 0x07]), id.der.subarray(4, 11), id.der.subarray(13)]);
  return { ...id, der };
}

/** The record a tier makes of `bytes`, with the single response its producer gave when `single` is. */
const cached = (bytes: Buffer, single?: SingleResponse): CachedResponse =>
  cachedResponse({ body: bytes, thisUpdate: THIS_UPDATE, nextUpdate: NEXT_UPDATE, producedAt: THIS_UPDATE, expiresAt: NEXT_UPDATE.getTime() }, { single });

describe("singleOf: the answer inside a cached response", () => {
  const id = certIdFor(Buffer.from([0x1a]), issuer);

  test("decodes the status and times of a response for the CertID", () => {
    const single = singleOf(cached(body([id])), id);
    assert.deepEqual(single?.status, { kind: "revoked", revokedAt: new Date("2026-11-01T00:00:00Z"), reason: "keyCompromise" });
    assert.deepEqual(single?.thisUpdate, THIS_UPDATE);
    assert.deepEqual(single?.nextUpdate, NEXT_UPDATE);
    assert.deepEqual(single?.invalidityDate, new Date("2026-10-31T00:00:00Z"));
    assert.deepEqual(single?.extensions, [], "the invalidity date is not kept twice");
  });

  const misses: [string, () => Buffer, CertId][] = [
    ["a response for another serial", () => body([certIdFor(Buffer.from([0x1b]), issuer)]), id],
    ["a response for the same serial under another hash algorithm", () => body([certIdFor(Buffer.from([0x1a]), issuer, "sha256")]), id],
    ["a response echoing the CertID without NULL hash parameters", () => body([withoutParameters(id)]), id],
    ["a response with two single responses", () => body([id, certIdFor(Buffer.from([0x1b]), issuer)]), id],
    ["a response with a nonce", () => body([id], [{ oid: id_pkix_ocsp_nonce, critical: false, value: Buffer.from([0x04, 0x01, 0x00]) }]), id],
    ["an error response", () => Buffer.from([0x30, 0x03, 0x0a, 0x01, 0x03]), id],
    ["bytes that are not a response", () => sequence(DER_NULL), id],
  ];
  for (const [title, bytes, certId] of misses) {
    test(`is undefined for ${title}`, () => assert.equal(singleOf(cached(bytes()), certId), undefined));
  }

  test("a response is asked with another encoding of its CertID: a miss for that one, still a hit for its own", () => {
    const bytes = cached(body([id]));
    assert.equal(singleOf(bytes, withoutParameters(id)), undefined);
    assert.ok(singleOf(bytes, id));
    const given = cached(Buffer.from("given, not DER"), { certIdDer: id.der, status: { kind: "good" }, thisUpdate: THIS_UPDATE, nextUpdate: NEXT_UPDATE, invalidityDate: undefined, extensions: [] });
    assert.equal(singleOf(given, withoutParameters(id)), undefined);
  });

  test("a single its producer gave is returned as given, without decoding", () => {
    const bytes = Buffer.from("not DER at all");
    const single: SingleResponse = { certIdDer: id.der, status: { kind: "good" }, thisUpdate: THIS_UPDATE, nextUpdate: NEXT_UPDATE, invalidityDate: undefined, extensions: [] };
    assert.equal(singleOf(cached(bytes, single), id), single);
  });

  test("the record carries the ETag of its bytes (the hex SHA-256), or the one its producer gave", () => {
    const bytes = body([id]);
    assert.equal(cached(bytes).etag, responseEtag(bytes));
    assert.match(cached(bytes).etag, /^"[0-9a-f]{64}"$/);
    const given = cachedResponse({ body: bytes, thisUpdate: THIS_UPDATE, nextUpdate: NEXT_UPDATE, producedAt: THIS_UPDATE, expiresAt: NEXT_UPDATE.getTime() }, { etag: '"given"' });
    assert.equal(given.etag, '"given"');
  });
});
