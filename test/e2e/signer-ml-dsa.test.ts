/**
 * End to end (issue 15, post-quantum signing): a real `vouch serve` with a classical (P-256, made by
 * `openssl ca`) and an ML-DSA-65 delegated signer for one CA, chosen per request by the client's
 * preferred-signature-algorithms (RFC 6960 §4.4.7): every classical response verified by `openssl
 * ocsp`, every ML-DSA one by Node's crypto and by @noble/post-quantum. Also a CA whose own key is
 * ML-DSA-87, signing for itself.
 */
import assert from "node:assert/strict";
import { X509Certificate, createPrivateKey, generateKeyPairSync } from "node:crypto";
import { mkdtemp, readFile, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, test } from "node:test";
import { responderIdByKey } from "../../src/ocsp/responder-id.ts";
import { certificateFields } from "../../src/ocsp/certificate-fields.ts";
import { certificateSerial, createPki, readPemDer, type Pki } from "../../src/pki/openssl-pki.ts";
import { ECDSA_WITH_SHA256, ED25519, ML_DSA_65, ML_DSA_87 } from "../../src/signing/signature-algorithms.ts";
import { certStatuses } from "../support/ocsp-response.ts";
import { nodeCertificate, writeCertificatePem } from "../../src/pki/node-certificate.ts";
import { postOcsp } from "../support/openssl.ts";
import { adminUrlOf, basicOf, ocspRequest, opensslVerifiesGood, verifyMlDsaResponse } from "../support/signers.ts";
import { pkiSigner, testResponder, vouchConfig } from "../support/vouch-config.ts";
import { startVouch, type VouchProcess } from "../support/vouch-process.ts";

const DAY = 86_400_000;
let pki: Pki;
let dir: string;
let vouch: VouchProcess;
let caDer: Buffer;
let mlDsaSignerDer: Buffer;
let pqCaDer: Buffer;
let goodSerial: string;
let revokedSerial: string;

before(async () => {
  dir = await mkdtemp(join(tmpdir(), "vouch-ml-dsa-"));
  pki = await createPki({ dir: join(dir, "pki") });
  caDer = await readPemDer(pki.ca);
  [goodSerial, revokedSerial] = await Promise.all([certificateSerial(pki.good), certificateSerial(pki.revoked)]);
  const now = Date.now();
  // The migration path: the classical CA issues a delegated signer whose key is ML-DSA-65.
  const mlDsa = generateKeyPairSync("ml-dsa-65");
  mlDsaSignerDer = nodeCertificate({
    commonName: "Vouch ML-DSA-65 OCSP Signer",
    subjectKey: mlDsa.privateKey,
    issuerCertificate: caDer,
    issuerKey: createPrivateKey(await readFile(pki.caKey)),
    profile: "ocsp-signer",
    notBefore: new Date(now - DAY),
    notAfter: new Date(now + 90 * DAY),
  });
  await writeCertificatePem(join(dir, "ml-dsa-signer.pem"), mlDsaSignerDer);
  await writeFile(join(dir, "ml-dsa-signer.key"), mlDsa.privateKey.export({ type: "pkcs8", format: "pem" }));
  // A post-quantum CA throughout: ML-DSA-87 signs its certificates and, as the CA, the responses.
  const pqCa = generateKeyPairSync("ml-dsa-87");
  pqCaDer = nodeCertificate({ commonName: "Vouch PQ CA", subjectKey: pqCa.privateKey, issuerKey: pqCa.privateKey, profile: "ca", notBefore: new Date(now - DAY), notAfter: new Date(now + 365 * DAY) });
  await writeCertificatePem(join(dir, "pq-ca.pem"), pqCaDer);
  await writeFile(join(dir, "pq-ca.key"), pqCa.privateKey.export({ type: "pkcs8", format: "pem" }));
  await writeFile(join(dir, "pq-index.txt"), "V\t301231235959Z\t\t0A01\tunknown\t/CN=pq-good\nR\t301231235959Z\t240101000000Z,keyCompromise\t0A02\tunknown\t/CN=pq-revoked\n");
  vouch = await startVouch(
    vouchConfig({
      admin: { listen: { host: "127.0.0.1", port: 0 }, readiness: { signerTestInterval: "PT1S" } },
      responders: [
        testResponder("pq", [
          { certificate: pki.ca, signers: [pkiSigner(pki), { certificate: join(dir, "ml-dsa-signer.pem"), key: join(dir, "ml-dsa-signer.key") }], sources: [{ type: "index", file: pki.index }] },
          { certificate: join(dir, "pq-ca.pem"), signer: { key: join(dir, "pq-ca.key") }, sources: [{ type: "index", file: join(dir, "pq-index.txt") }] },
        ]),
      ],
    }),
  );
});

after(async () => {
  await vouch?.stop();
});

/** Posts a request and returns the response body. */
async function ask(request: Buffer): Promise<Buffer> {
  const response = await postOcsp(vouch.baseUrl, request);
  assert.equal(response.status, 200);
  return response.body;
}

describe("ML-DSA and classical signers side by side for one CA", () => {
  test("a client without preferences gets the classical signer's response, which openssl verifies", async () => {
    const body = await ask(ocspRequest(caDer, goodSerial));
    const basic = basicOf(body);
    assert.equal(basic.signatureAlgorithm.oid, ECDSA_WITH_SHA256.identifier.oid);
    assert.ok(basic.certs[0]!.equals(await readPemDer(pki.signer)));
    assert.match(await opensslVerifiesGood(pki, body, goodSerial), new RegExp(`0x${goodSerial}: good`, "i"));
  });

  test("a client preferring ML-DSA-65 gets the ML-DSA signer's response: its certificate, its responderID, verified by Node and by @noble/post-quantum", async () => {
    for (const [serial, status] of [
      [goodSerial, "good"],
      [revokedSerial, "revoked"],
    ] as const) {
      const body = await ask(ocspRequest(caDer, serial, [ML_DSA_65]));
      const signer = verifyMlDsaResponse(body, caDer);
      assert.ok(signer.raw.equals(mlDsaSignerDer));
      const basic = basicOf(body);
      assert.deepEqual(basic.responderId, { kind: "byKey", keyHash: responderIdByKey(certificateFields(mlDsaSignerDer)).subarray(4) });
      assert.deepEqual(certStatuses(body), [status]);
    }
  });

  test("the client's first algorithm the responder can use wins; an unknown one falls back to the classical signer", async () => {
    const ecdsaFirst = await ask(ocspRequest(caDer, goodSerial, [ECDSA_WITH_SHA256, ML_DSA_65]));
    assert.equal(basicOf(ecdsaFirst).signatureAlgorithm.oid, ECDSA_WITH_SHA256.identifier.oid);
    await opensslVerifiesGood(pki, ecdsaFirst, goodSerial);
    const unknownFirst = await ask(ocspRequest(caDer, goodSerial, [ED25519, ML_DSA_65]));
    verifyMlDsaResponse(unknownFirst, caDer);
    const unsupported = await ask(ocspRequest(caDer, goodSerial, [ED25519]));
    assert.equal(basicOf(unsupported).signatureAlgorithm.oid, ECDSA_WITH_SHA256.identifier.oid);
    await opensslVerifiesGood(pki, unsupported, goodSerial);
  });

  test("a CA whose key is ML-DSA-87 signs its own responses, verified by Node and by @noble/post-quantum", async () => {
    for (const [serial, status] of [
      ["0A01", "good"],
      ["0A02", "revoked"],
      ["0A03", "unknown"],
    ] as const) {
      const body = await ask(ocspRequest(pqCaDer, serial));
      const signer = verifyMlDsaResponse(body, pqCaDer);
      assert.ok(signer.raw.equals(pqCaDer));
      assert.equal(basicOf(body).signatureAlgorithm.oid, ML_DSA_87.identifier.oid);
      assert.deepEqual(certStatuses(body), [status]);
    }
  });

  test("readiness makes test signatures with every signer valid now, ML-DSA ones included, and is ready", async () => {
    const admin = await adminUrlOf(vouch);
    const response = await fetch(`${admin}/readyz`);
    assert.equal(response.status, 200, await response.clone().text());
    assert.equal(await response.text(), "ready\n");
    assert.ok(new X509Certificate(mlDsaSignerDer).verify(new X509Certificate(caDer).publicKey));
  });
});
