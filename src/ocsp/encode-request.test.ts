import assert from "node:assert/strict";
import { createPrivateKey, createPublicKey, sign, verify } from "node:crypto";
import { readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { after, before, describe, test } from "node:test";
import { OCSPRequest } from "@peculiar/asn1-ocsp";
import { AsnConvert } from "@peculiar/asn1-schema";
import { ECDSA_WITH_SHA256 } from "../signing/signature-algorithms.ts";
import { encodeCertId } from "./cert-id.ts";
import { certificateFields } from "./certificate-fields.ts";
import { decodeOcspRequest } from "./decode-request.ts";
import { octetString } from "./der-writer.ts";
import { directoryName, encodeOcspRequest, encodeTbsRequest } from "./encode-request.ts";
import { id_identrus_freshness_proof, id_pkix_ocsp_nonce } from "./oids.ts";
import { LEAF1_SERIAL_HEX, LEAF2_SERIAL_HEX, makeTestPki, openssl, opensslRequest, type TestPki } from "./test-support/test-pki.ts";

let pki: TestPki;
before(() => {
  pki = makeTestPki();
});
after(() => pki.cleanup());

const serial = (hex: string): Buffer => {
  const bytes = Buffer.from(hex.length % 2 === 0 ? hex : `0${hex}`, "hex");
  return (bytes[0] ?? 0) >= 0x80 ? Buffer.concat([Buffer.of(0), bytes]) : bytes;
};

/** A request signed by the test PKI's requestor, as `vouch query --sign` builds it. */
function signedRequest(extras: { nonce?: Buffer; proof?: Buffer } = {}): Buffer {
  const certIds = [encodeCertId("sha256", pki.caDer, serial(LEAF1_SERIAL_HEX)), encodeCertId("sha1", pki.caDer, serial(LEAF2_SERIAL_HEX))];
  const tbs = encodeTbsRequest({
    certIds,
    requestorName: directoryName(certificateFields(pki.requestorDer).subjectDer),
    nonce: extras.nonce,
    extensions: extras.proof === undefined ? [] : [{ oid: id_identrus_freshness_proof, critical: false, value: extras.proof }],
  });
  const key = createPrivateKey(readFileSync(pki.requestorKey));
  const signature = sign("sha256", tbs, key);
  return encodeOcspRequest(tbs, { algorithmDer: ECDSA_WITH_SHA256.identifier.der, signature, certs: [pki.requestorDer, pki.caDer] });
}

describe("encodeTbsRequest / encodeOcspRequest", () => {
  test("an unsigned request without a nonce is byte-identical to openssl's", () => {
    const ours = encodeOcspRequest(encodeTbsRequest({ certIds: [encodeCertId("sha1", pki.caDer, serial(LEAF1_SERIAL_HEX))] }));
    const theirs = opensslRequest(pki, "plain", ["-issuer", pki.caPem, "-cert", pki.leaf1Pem, "-no_nonce"]);
    assert.equal(ours.toString("hex"), theirs.toString("hex"));
  });

  test("a nonce is written as the DER of Nonce ::= OCTET STRING, as openssl writes it", () => {
    const theirsDer = opensslRequest(pki, "nonce", ["-issuer", pki.caPem, "-cert", pki.leaf1Pem]);
    const nonceOctets = decodeOcspRequest(theirsDer).nonce!.subarray(2);
    const ours = encodeOcspRequest(encodeTbsRequest({ certIds: [encodeCertId("sha1", pki.caDer, serial(LEAF1_SERIAL_HEX))], nonce: nonceOctets }));
    assert.equal(ours.toString("hex"), theirsDer.toString("hex"));
  });

  test("a signed request decodes the same in Vouch's decoder, and its signature verifies over tbsRequest", () => {
    const proof = Buffer.from("3000", "hex");
    const der = signedRequest({ nonce: Buffer.alloc(16, 7), proof });
    const decoded = decodeOcspRequest(der);
    assert.equal(decoded.requests.length, 2);
    assert.equal(decoded.requests[0]!.certId.hashAlgorithm, "sha256");
    assert.equal(decoded.requests[1]!.certId.hashAlgorithm, "sha1");
    assert.deepEqual(decoded.nonce, octetString(Buffer.alloc(16, 7)));
    assert.deepEqual(decoded.extensions.map((extension) => extension.oid), [id_pkix_ocsp_nonce, id_identrus_freshness_proof]);
    assert.deepEqual(decoded.extensions[1]!.value, proof);
    assert.deepEqual(decoded.signature!.certs, [pki.requestorDer, pki.caDer]);
    assert.equal(decoded.signature!.algorithm.oid, "1.2.840.10045.4.3.2");
    const publicKey = createPublicKey(readFileSync(pki.requestorPem));
    assert.equal(verify("sha256", decoded.tbsRequestDer, publicKey, decoded.signature!.signature), true);
  });

  test("@peculiar/asn1-ocsp reads the same request", () => {
    const der = signedRequest({ nonce: Buffer.alloc(8, 1) });
    const parsed = AsnConvert.parse(der, OCSPRequest);
    assert.equal(parsed.tbsRequest.requestList.length, 2);
    assert.equal(Buffer.from(parsed.tbsRequest.requestList[0]!.reqCert.serialNumber).toString("hex").toUpperCase(), `00${LEAF1_SERIAL_HEX}`);
    assert.equal(parsed.tbsRequest.requestorName?.directoryName !== undefined, true);
    assert.equal(parsed.tbsRequest.requestExtensions?.[0]?.extnID, id_pkix_ocsp_nonce);
    assert.equal(parsed.optionalSignature?.certs?.length, 2);
  });

  test("openssl ocsp -reqin -req_text reads it", () => {
    const file = join(pki.dir, "ours-signed.req.der");
    writeFileSync(file, signedRequest({ nonce: Buffer.alloc(8, 2) }));
    const text = openssl(pki.dir, ["ocsp", "-reqin", file, "-req_text"]);
    assert.match(text, /Requestor Name: .*CN\s*=\s*OCSP requestor/);
    assert.match(text, new RegExp(`Serial Number: ${LEAF1_SERIAL_HEX}`));
    assert.match(text, new RegExp(`Serial Number: 0?${LEAF2_SERIAL_HEX}`));
    assert.match(text, /OCSP Nonce:\s*\n\s*0408(02){8}/);
    assert.match(text, /Signature Algorithm: ecdsa-with-SHA256/);
  });

  test("bad input is a RangeError, never a malformed request on the wire", () => {
    assert.throws(() => encodeTbsRequest({ certIds: [] }), RangeError);
    assert.throws(() => encodeTbsRequest({ certIds: [encodeCertId("sha1", pki.caDer, Buffer.of(1))], nonce: Buffer.alloc(0) }), RangeError);
    assert.throws(
      () =>
        encodeTbsRequest({
          certIds: [encodeCertId("sha1", pki.caDer, Buffer.of(1))],
          nonce: Buffer.of(1),
          extensions: [{ oid: id_pkix_ocsp_nonce, critical: false, value: Buffer.from("040101", "hex") }],
        }),
      RangeError,
    );
  });
});
