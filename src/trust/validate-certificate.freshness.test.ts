/**
 * The validation process with freshness proofs (SPEC §3, step 2): a requestor whose CA no revocation
 * source serves is authenticated when the verified proofs of ITS request say its chain is good, and
 * refused when one says revoked. For an issuer a source serves, the source decides, whatever a proof
 * says; and proofs given to one authentication count for that one only (never remembered).
 */
import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";
import { fixedClock } from "../clock.ts";
import { decodeOcspResponse } from "../ocsp/decode-response.ts";
import { certificateFields } from "../ocsp/certificate-fields.ts";
import { memorySource } from "../status/memory-source.ts";
import { opensslProof, proofFixture, type ProofFixture } from "../responses/test-support/proof-fixture.ts";
import { verifiedProofs, type VerifiedProofs } from "../responses/verified-proofs.ts";
import type { Made } from "./test-support/openssl-certificates.ts";
import { certificateCache } from "./memory-certificate-cache.ts";
import { rememberValidations } from "./remembered-validations.ts";
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

/** A validator trusting the fixture's root and knowing its CA; `sources` serve what they serve. */
function validatorWith(sources: readonly RevocationIssuer[] = []) {
  return certificateValidator({
    anchors: [f.root.der],
    cache: certificateCache({ persistent: [f.ca.der], maxCount: 10, maxBytes: 100_000 }),
    revocation: revocationLookup(sources),
    clock: fixedClock(Date.now()),
    unknownStatus: "fail",
  });
}

/** Verified proofs as step 2 keeps them: each response with the issuer its certificate has. */
function proofs(...responses: [Buffer, Made][]): VerifiedProofs {
  const set = verifiedProofs();
  for (const [response, issuer] of responses) {
    const decoded = decodeOcspResponse(response);
    if (decoded.status !== "successful") assert.fail("not a successful response");
    for (const single of decoded.basic.responses) set.add(certificateFields(issuer.der), single, decoded.basic.producedAt);
  }
  return set;
}

function failed(result: { ok: boolean; failed?: string }): string {
  return result.ok ? "ok" : result.failed!;
}

describe("validation with the verified freshness proofs of one request", () => {
  test("without proofs the requestor's status is unknown; with good ones (SHA-1 or SHA-256 CertIDs) it is authenticated", async () => {
    const validator = validatorWith();
    assert.equal(failed(await validator.authenticate(f.requestor.der, "request-signing", NEVER)), "status-unknown");

    const half = await validator.authenticate(f.requestor.der, "request-signing", NEVER, proofs([await opensslProof(f, f.requestor, f.ca, { hash: "sha256" }), f.ca]));
    // The CA's own status (asked of the root) is still unknown.
    assert.equal(failed(half), "status-unknown");
    assert.match(half.ok ? "" : half.detail, /Client CA/);

    const whole = proofs([await opensslProof(f, f.requestor, f.ca), f.ca], [await opensslProof(f, f.ca, f.root), f.root]);
    const after = await validator.authenticate(f.requestor.der, "request-signing", NEVER, whole);
    assert.equal(after.ok, true);
    assert.deepEqual(after.ok ? after.chain : [], [f.requestor.der, f.ca.der, f.root.der]);
  });

  test("a revoked proof fails the requestor", async () => {
    const given = proofs([await opensslProof(f, f.requestor, f.ca, { status: "revoked" }), f.ca], [await opensslProof(f, f.ca, f.root), f.root]);
    const result = await validatorWith().authenticate(f.requestor.der, "request-signing", NEVER, given);
    assert.equal(failed(result), "revoked");
    assert.match(result.ok ? "" : result.detail, /keyCompromise/);
  });

  test("for an issuer a source serves, the source decides: a good proof never passes a certificate the source says is revoked", async () => {
    const clock = fixedClock(Date.now());
    const revoked = memorySource({
      issuer: f.ca.der,
      entries: new Map([[f.requestor.serial, { kind: "revoked" as const, revokedAt: new Date("2024-01-01T00:00:00Z"), reason: "keyCompromise" as const }]]),
      listsIssued: false,
      clock,
    });
    const given = proofs([await opensslProof(f, f.requestor, f.ca), f.ca], [await opensslProof(f, f.ca, f.root), f.root]);
    const result = await validatorWith([{ certificate: f.ca.der, source: revoked }]).authenticate(f.requestor.der, "request-signing", NEVER, given);
    assert.equal(failed(result), "revoked");
    // Nor does a revoked proof fail a certificate the source says is good.
    const good = memorySource({ issuer: f.ca.der, entries: new Map(), listsIssued: false, clock });
    const revokedProof = proofs([await opensslProof(f, f.requestor, f.ca, { status: "revoked" }), f.ca], [await opensslProof(f, f.ca, f.root), f.root]);
    assert.equal(failed(await validatorWith([{ certificate: f.ca.der, source: good }]).authenticate(f.requestor.der, "request-signing", NEVER, revokedProof)), "ok");
  });

  test("a result resting on proofs is not remembered: the next authentication without them is unknown again", async () => {
    const remembering = rememberValidations(validatorWith(), { ttlMs: 60_000, maxEntries: 10, clock: fixedClock(Date.now()) });
    const given = proofs([await opensslProof(f, f.requestor, f.ca), f.ca], [await opensslProof(f, f.ca, f.root), f.root]);
    assert.equal(failed(await remembering.authenticate(f.requestor.der, "request-signing", NEVER, given)), "ok");
    assert.equal(failed(await remembering.authenticate(f.requestor.der, "request-signing", NEVER)), "status-unknown");
  });

  test("a response about another certificate under the same CA does not count", async () => {
    const given = proofs([await opensslProof(f, f.responder, f.ca), f.ca], [await opensslProof(f, f.ca, f.root), f.root]);
    assert.equal(failed(await validatorWith().authenticate(f.requestor.der, "request-signing", NEVER, given)), "status-unknown");
  });
});
