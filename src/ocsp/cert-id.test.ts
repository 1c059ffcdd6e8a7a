import assert from "node:assert/strict";
import { X509Certificate, createHash } from "node:crypto";
import { after, before, describe, test } from "node:test";
import { encodeCertId, issuerHashes } from "./cert-id.ts";
import { CertificateFormatError, certificateFields } from "./certificate-fields.ts";
import { decodeOcspRequest } from "./decode-request.ts";
import { responderIdByKey, responderIdByName } from "./responder-id.ts";
import type { TestPki } from "./test-support/test-pki.ts";
import { LEAF1_SERIAL_HEX, makeTestPki, openssl, opensslRequest } from "./test-support/test-pki.ts";
import { HASH_ALGORITHMS } from "./types.ts";

let pki: TestPki;
before(() => {
  pki = makeTestPki();
});
after(() => pki.cleanup());

describe("certificateFields", () => {
  test("agrees with node:crypto's X509Certificate", () => {
    const x509 = new X509Certificate(pki.leaf1Der);
    const fields = certificateFields(pki.leaf1Der);
    assert.equal(fields.serialNumber.toString("hex").toUpperCase(), `00${LEAF1_SERIAL_HEX}`);
    assert.equal(fields.notBefore.getTime(), new Date(x509.validFrom).getTime());
    assert.equal(fields.notAfter.getTime(), new Date(x509.validTo).getTime());
    assert.deepEqual(fields.subjectPublicKeyInfoDer, x509.publicKey.export({ type: "spki", format: "der" }));
    assert.deepEqual(fields.issuerDer, certificateFields(pki.caDer).subjectDer);
    assert.equal(fields.subjectPublicKey.length, 65); // uncompressed P-256 point
  });

  const broken: [string, () => Buffer][] = [
    ["an empty buffer", () => Buffer.alloc(0)],
    ["a truncated certificate", () => pki.leaf1Der.subarray(0, 100)],
    ["a certificate with trailing bytes", () => Buffer.concat([pki.leaf1Der, Buffer.of(0)])],
    ["a PEM file", () => Buffer.from("-----BEGIN CERTIFICATE-----")],
  ];
  for (const [name, make] of broken) {
    test(`throws CertificateFormatError on ${name}`, () => assert.throws(() => certificateFields(make()), CertificateFormatError));
  }
});

describe("issuerHashes and encodeCertId", () => {
  test("match the CertIDs openssl puts in requests, for every hash algorithm", () => {
    const hashes = issuerHashes(pki.caDer);
    const serial = certificateFields(pki.leaf1Der).serialNumber;
    for (const hash of HASH_ALGORITHMS) {
      const flag = hash === "sha1" ? [] : [`-${hash}`];
      const request = decodeOcspRequest(opensslRequest(pki, `h-${hash}`, ["-issuer", pki.caPem, ...flag, "-cert", pki.leaf1Pem, "-no_nonce"]));
      const certId = request.requests[0]?.certId;
      assert.ok(certId);
      assert.deepEqual(certId.issuerNameHash, hashes.get(hash)?.nameHash, hash);
      assert.deepEqual(certId.issuerKeyHash, hashes.get(hash)?.keyHash, hash);
      assert.deepEqual(encodeCertId(hash, pki.caDer, serial), certId.der, hash);
    }
  });
});

describe("ResponderID", () => {
  test("byKey is [2] { OCTET STRING SHA-1(subjectPublicKey) }, from an SPKI or from the bits", () => {
    const ca = certificateFields(pki.caDer);
    const keyHash = createHash("sha1").update(ca.subjectPublicKey).digest();
    const expected = Buffer.concat([Buffer.of(0xa2, 0x16, 0x04, 0x14), keyHash]);
    assert.deepEqual(responderIdByKey(ca.subjectPublicKeyInfoDer), expected);
    assert.deepEqual(responderIdByKey({ subjectPublicKey: ca.subjectPublicKey }), expected);
    // The CA's subjectKeyIdentifier is the same SHA-1 (openssl's default method 1).
    const ski = openssl(pki.dir, ["x509", "-in", pki.caPem, "-noout", "-ext", "subjectKeyIdentifier"]);
    assert.equal(keyHash.toString("hex"), /([0-9A-F]{2}(:[0-9A-F]{2}){19})/.exec(ski)?.[1]?.replace(/:/g, "").toLowerCase());
  });

  test("byName is [1] { Name } with the subject exactly as encoded", () => {
    const { subjectDer } = certificateFields(pki.caDer);
    const id = responderIdByName(subjectDer);
    assert.equal(id[0], 0xa1);
    assert.deepEqual(id.subarray(id.length - subjectDer.length), subjectDer);
  });

  test("byKey throws CertificateFormatError on a bad SPKI", () => {
    assert.throws(() => responderIdByKey(Buffer.of(0x30, 0x00)), CertificateFormatError);
  });
});
