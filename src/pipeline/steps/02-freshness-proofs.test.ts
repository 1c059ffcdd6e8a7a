import assert from "node:assert/strict";
import { createPrivateKey, sign } from "node:crypto";
import { readFile } from "node:fs/promises";
import { after, before, describe, test } from "node:test";
import { fixedClock } from "../../clock.ts";
import { decodeOcspRequest } from "../../ocsp/decode-request.ts";
import { decodeOcspResponse } from "../../ocsp/decode-response.ts";
import { encodeCertId } from "../../ocsp/cert-id.ts";
import { certificateFields } from "../../ocsp/certificate-fields.ts";
import { encodeOcspRequest, encodeTbsRequest } from "../../ocsp/encode-request.ts";
import { freshnessProofExtension } from "../../ocsp/freshness-proof.ts";
import { sequence } from "../../ocsp/der-writer.ts";
import { id_identrus_freshness_proof } from "../../ocsp/oids.ts";
import type { Extension } from "../../ocsp/types.ts";
import { recordingLogger } from "../../observability/logger.ts";
import { opensslProof, proofFixture, type ProofFixture } from "../../responses/test-support/proof-fixture.ts";
import { ECDSA_WITH_SHA256 } from "../../signing/signature-algorithms.ts";
import { memorySource } from "../../status/memory-source.ts";
import { certificateCache } from "../../trust/memory-certificate-cache.ts";
import { revocationLookup, type RevocationIssuer } from "../../trust/revocation-lookup.ts";
import type { Made } from "../../trust/test-support/openssl-certificates.ts";
import { createExchange, type Exchange } from "../exchange.ts";
import { freshnessProofsStep } from "./02-freshness-proofs.ts";

let f: ProofFixture;
before(async () => {
  f = await proofFixture();
});
after(async () => {
  await f.maker.remove();
});

const HOUR = 3_600_000;

/** A request from the fixture's requestor (certs: requestor, its CA) carrying `extension`. */
async function signedRequest(extension: Extension) {
  const tbs = encodeTbsRequest({ certIds: [encodeCertId("sha1", f.ca.der, Buffer.from("01", "hex"))], extensions: [extension] });
  const signature = sign("sha256", tbs, createPrivateKey(await readFile(f.requestor.key)));
  return decodeOcspRequest(encodeOcspRequest(tbs, { algorithmDer: ECDSA_WITH_SHA256.identifier.der, signature, certs: [f.requestor.der, f.ca.der] }));
}

/**
 * Runs step 2 over a request carrying `proof` (whole OCSPResponses), with revocation sources serving
 * `served` (none by default); returns the exchange and the reasons logged for ignored responses.
 */
async function run(proof: Extension, at = Date.now(), maxAgeMs = HOUR, served: RevocationIssuer[] = [], signed = true) {
  const clock = fixedClock(at);
  const logger = recordingLogger();
  const step = freshnessProofsStep({ revocation: revocationLookup(served), certificates: certificateCache({ persistent: [], maxCount: 10, maxBytes: 100_000 }), anchors: [f.root.der], maxAgeMs, clock, logger });
  const exchange = createExchange({ received: Buffer.alloc(0), method: "POST", clientAddress: "127.0.0.1", ifNoneMatch: undefined, signal: new AbortController().signal, startedAt: at });
  exchange.request = signed ? await signedRequest(proof) : decodeOcspRequest(encodeOcspRequest(encodeTbsRequest({ certIds: [encodeCertId("sha1", f.ca.der, Buffer.from("01", "hex"))], extensions: [proof] })));
  await step.run(exchange);
  return { exchange, ignored: logger.records.filter((record) => record.message === "freshness proof ignored").map((record) => record.fields.reason) };
}

/** What the exchange's proofs say about `subject` from `issuer`. */
function said(exchange: Exchange, subject: Made, issuer: Made): string | undefined {
  return exchange.freshnessProofs?.statusOf(certificateFields(issuer.der), certificateFields(subject.der).serialNumber)?.kind;
}

describe("step 2: freshness proofs", () => {
  test("a good proof from the CA, and one from its designated responder, are kept on the exchange for step 3", async () => {
    const byCa = await opensslProof(f, f.requestor, f.ca);
    const aboutCa = await opensslProof(f, f.ca, f.root, { hash: "sha256" });
    const { exchange, ignored } = await run(freshnessProofExtension([byCa, aboutCa]));
    assert.deepEqual(ignored, []);
    assert.equal(said(exchange, f.requestor, f.ca), "good");
    assert.equal(said(exchange, f.ca, f.root), "good");
    assert.equal(said(exchange, f.responder, f.ca), undefined);

    const byResponder = await opensslProof(f, f.requestor, f.ca, { signer: f.responder, status: "revoked" });
    const second = await run(freshnessProofExtension([byResponder]));
    assert.deepEqual(second.ignored, []);
    assert.equal(said(second.exchange, f.requestor, f.ca), "revoked");
  });

  test("the SEQUENCE OF BasicOCSPResponse form is accepted, and a proof with a nonce is a proof too", async () => {
    const proof = await opensslProof(f, f.requestor, f.ca, { status: "revoked" });
    const decoded = decodeOcspResponse(proof);
    const basic = decoded.status === "successful" ? decoded.basic.der : assert.fail();
    const { exchange, ignored } = await run({ oid: id_identrus_freshness_proof, critical: false, value: sequence(basic) });
    assert.deepEqual(ignored, []);
    assert.equal(said(exchange, f.requestor, f.ca), "revoked");
    const withNonce = await run(freshnessProofExtension([await opensslProof(f, f.requestor, f.ca, { nonce: true })]));
    assert.deepEqual(withNonce.ignored, []);
    assert.equal(said(withNonce.exchange, f.requestor, f.ca), "good");
  });

  test("a proof about a certificate whose issuer Vouch's own sources serve is ignored: the sources decide", async () => {
    const source = memorySource({ issuer: f.ca.der, entries: new Map(), listsIssued: false, clock: fixedClock(Date.now()) });
    const { exchange, ignored } = await run(freshnessProofExtension([await opensslProof(f, f.requestor, f.ca), await opensslProof(f, f.ca, f.root)]), Date.now(), HOUR, [
      { certificate: f.ca.der, source },
    ]);
    assert.deepEqual(ignored, ["issuer-served"]);
    assert.equal(said(exchange, f.requestor, f.ca), undefined);
    assert.equal(said(exchange, f.ca, f.root), "good");
  });

  test("an unsigned request's proofs are not even looked at: there is no signer to authenticate", async () => {
    const { exchange, ignored } = await run(freshnessProofExtension([await opensslProof(f, f.requestor, f.ca)]), Date.now(), HOUR, [], false);
    assert.deepEqual(ignored, []);
    assert.equal(exchange.freshnessProofs, undefined);
  });

  test("a bad signature, a wrong signer or a stale proof is ignored and logged, never fatal", async () => {
    const good = await opensslProof(f, f.requestor, f.ca);
    const badSignature = Buffer.from(good);
    // OpenSSL puts the signer certificate last; the signature's last octet sits just before its certs.
    const decoded = decodeOcspResponse(good);
    const basic = decoded.status === "successful" ? decoded.basic : assert.fail();
    const at = good.indexOf(basic.signature) + basic.signature.length - 1;
    badSignature[at] = badSignature[at]! ^ 0x01;
    const cases: [string, Buffer, string, number?][] = [
      ["bad signature", badSignature, "bad-signature"],
      ["signed by a stranger", await opensslProof(f, f.requestor, f.ca, { signer: f.stranger }), "unauthorized-signer"],
      ["signed by the wrong CA's key", await opensslProof(f, f.requestor, f.ca, { signer: f.root }), "unauthorized-signer"],
      ["older than maxAge", await opensslProof(f, f.requestor, f.ca, { validMinutes: 24 * 60 }), "too-old", Date.now() + 2 * HOUR],
      ["past its nextUpdate", await opensslProof(f, f.requestor, f.ca, { validMinutes: 10 }), "expired", Date.now() + 30 * 60_000],
      ["about a certificate whose issuer is unknown", await opensslProof(f, f.stranger, f.stranger), "unknown-issuer"],
    ];
    for (const [name, proof, reason, at] of cases) {
      const { exchange, ignored } = await run(freshnessProofExtension([proof]), at, HOUR);
      assert.deepEqual(ignored, [reason], name);
      assert.equal(exchange.freshnessProofs, undefined, name);
    }
  });

  test("one bad response does not spoil the good ones beside it", async () => {
    const good = await opensslProof(f, f.requestor, f.ca);
    const wrong = await opensslProof(f, f.ca, f.root, { signer: f.stranger });
    const { exchange, ignored } = await run(freshnessProofExtension([wrong, good]));
    assert.deepEqual(ignored, ["unauthorized-signer"]);
    assert.equal(said(exchange, f.requestor, f.ca), "good");
    assert.equal(said(exchange, f.ca, f.root), undefined);
  });

  test("a malformed extension value is ignored and logged", async () => {
    const { exchange, ignored } = await run({ oid: id_identrus_freshness_proof, critical: false, value: Buffer.from("3000", "hex") });
    assert.deepEqual(ignored, ["malformed"]);
    assert.equal(exchange.freshnessProofs, undefined);
  });
});
