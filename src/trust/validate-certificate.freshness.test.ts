/**
 * The validation process with freshness proofs (SPEC §3 "or the response cache, e.g. a freshness
 * proof"): a requestor whose CA no revocation source serves is authenticated when the response
 * cache holds good responses for its chain, and refused when one says revoked.
 */
import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";
import { fixedClock } from "../clock.ts";
import { decodeOcspResponse } from "../ocsp/decode-response.ts";
import { certificateFields } from "../ocsp/certificate-fields.ts";
import { memorySource } from "../status/memory-source.ts";
import { mapResponseCache, opensslProof, proofFixture, type ProofFixture } from "../responses/test-support/proof-fixture.ts";
import { certificateCache } from "./memory-certificate-cache.ts";
import { revocationLookup, type RevocationIssuer } from "./revocation-lookup.ts";
import { certificateValidator } from "./validate-certificate.ts";

let f: ProofFixture;
before(async () => {
  f = await proofFixture();
});
after(async () => {
  await f.maker.remove();
});

const NEVER = new AbortController().signal;

/** A validator trusting the fixture's root, knowing its CA, reading `responses`; no source serves the CA. */
function validatorWith(responses: ReturnType<typeof mapResponseCache>, sources: readonly RevocationIssuer[] = []) {
  const clock = fixedClock(Date.now());
  return certificateValidator({
    anchors: [f.root.der],
    cache: certificateCache({ persistent: [f.ca.der], maxCount: 10, maxBytes: 100_000 }),
    revocation: revocationLookup(sources, responses),
    clock,
    unknownStatus: "fail",
  });
}

async function cache(responses: ReturnType<typeof mapResponseCache>, ...proofs: Buffer[]): Promise<void> {
  for (const proof of proofs) {
    const decoded = decodeOcspResponse(proof);
    if (decoded.status !== "successful") assert.fail("not a successful response");
    const single = decoded.basic.responses[0]!;
    await responses.put(single.certId, { body: proof, thisUpdate: single.thisUpdate, nextUpdate: single.nextUpdate!, issuerNameDer: Buffer.alloc(0) });
  }
}

describe("validation with freshness proofs in the response cache", () => {
  test("without proofs the requestor's status is unknown; with good ones (SHA-1 or SHA-256 CertIDs) it is authenticated", async () => {
    const responses = mapResponseCache(fixedClock(Date.now()));
    const before = await validatorWith(responses).authenticate(f.requestor.der, "request-signing", NEVER);
    assert.equal(before.ok, false);
    assert.equal(before.ok ? "" : before.failed, "status-unknown");

    await cache(responses, await opensslProof(f, f.requestor, f.ca, { hash: "sha256" }));
    const half = await validatorWith(responses).authenticate(f.requestor.der, "request-signing", NEVER);
    // The CA's own status (asked of the root) is still unknown.
    assert.equal(half.ok ? "" : half.failed, "status-unknown");
    assert.match(half.ok ? "" : half.detail, /Client CA/);

    await cache(responses, await opensslProof(f, f.ca, f.root));
    const after = await validatorWith(responses).authenticate(f.requestor.der, "request-signing", NEVER);
    assert.equal(after.ok, true);
    assert.deepEqual(after.ok ? after.chain : [], [f.requestor.der, f.ca.der, f.root.der]);
  });

  test("a revoked proof fails the requestor, and comes before the revocation sources", async () => {
    const responses = mapResponseCache(fixedClock(Date.now()));
    await cache(responses, await opensslProof(f, f.requestor, f.ca, { status: "revoked" }), await opensslProof(f, f.ca, f.root));
    // A source that serves the CA and says good is not asked: the cached response decides.
    const goodSource = memorySource({ issuer: f.ca.der, entries: new Map(), listsIssued: false, clock: fixedClock(Date.now()) });
    const result = await validatorWith(responses, [{ certificate: f.ca.der, source: goodSource }]).authenticate(f.requestor.der, "request-signing", NEVER);
    assert.equal(result.ok ? "" : result.failed, "revoked");
    assert.match(result.ok ? "" : result.detail, /keyCompromise/);
  });

  test("a response about another certificate under the same CA does not count", async () => {
    const responses = mapResponseCache(fixedClock(Date.now()));
    await cache(responses, await opensslProof(f, f.responder, f.ca), await opensslProof(f, f.ca, f.root));
    const result = await validatorWith(responses).authenticate(f.requestor.der, "request-signing", NEVER);
    assert.equal(result.ok ? "" : result.failed, "status-unknown");
    assert.notDeepEqual(certificateFields(f.responder.der).serialNumber, certificateFields(f.requestor.der).serialNumber);
  });
});
