import assert from "node:assert/strict";
import { X509Certificate, verify } from "node:crypto";
import { after, before, describe, test } from "node:test";
import { MalformedRequestError } from "../errors.ts";
import { issuerHashes } from "./cert-id.ts";
import { certificateFields } from "./certificate-fields.ts";
import { decodeOcspRequest } from "./decode-request.ts";
import { bitString, boolean, explicit, integer, octetString, oid, sequence, tlv, DER_NULL } from "./der-writer.ts";
import { nonceLength } from "./nonce.ts";
import {
  ecdsa_with_SHA256,
  id_identrus_freshness_proof,
  id_pkix_ocsp_nonce,
  id_pkix_ocsp_pref_sig_algs,
  id_pkix_ocsp_response,
  id_sha256,
  rsaEncryption,
  sha256WithRSAEncryption,
} from "./oids.ts";
import type { RequestCase, TestPki } from "./test-support/test-pki.ts";
import { makeTestPki, opensslSerial, requestCases, serialHex } from "./test-support/test-pki.ts";

let pki: TestPki;
let cases: RequestCase[];

before(() => {
  pki = makeTestPki();
  cases = requestCases(pki);
});
after(() => pki.cleanup());

describe("decodeOcspRequest on requests written by openssl ocsp", () => {
  test("decodes every generated request with the serials, hashes, nonce and signature openssl put in", () => {
    const caHashes = issuerHashes(pki.caDer);
    for (const c of cases) {
      const request = decodeOcspRequest(c.der);
      assert.equal(request.requests.length, c.certs.length, c.name);
      request.requests.forEach((single, i) => {
        const certPem = c.certs[i] ?? "";
        const { certId } = single;
        assert.equal(certId.hashAlgorithm, c.hash, c.name);
        assert.equal(serialHex(certId.serialNumber), opensslSerial(pki.dir, certPem), c.name);
        const expected = caHashes.get(c.hash);
        assert.deepEqual(certId.issuerNameHash, expected?.nameHash, `${c.name} nameHash`);
        assert.deepEqual(certId.issuerKeyHash, expected?.keyHash, `${c.name} keyHash`);
        assert.equal(certId.der[0], 0x30);
      });
      assert.deepEqual(
        request.requests[0]?.extensions.map((e) => e.oid),
        c.singleExtensions,
        c.name,
      );
      assert.equal(request.nonce !== undefined, c.nonce, `${c.name} nonce`);
      if (request.nonce !== undefined) assert.ok(nonceLength(request.nonce) >= 16, c.name);
      assert.equal(request.signature?.certs.length, c.signedWithCerts, `${c.name} certs`);
    }
  });

  test("tbsRequestDer is exactly what the requestor signed", () => {
    const requestorKey = new X509Certificate(pki.requestorDer).publicKey;
    const signed = cases.filter((c) => c.signedWithCerts !== undefined);
    assert.equal(signed.length, 3);
    for (const c of signed) {
      const request = decodeOcspRequest(c.der);
      const signature = request.signature;
      assert.ok(signature, c.name);
      assert.equal(signature.algorithm.oid, ecdsa_with_SHA256, c.name);
      assert.ok(verify("sha256", request.tbsRequestDer, requestorKey, signature.signature), c.name);
      // openssl names the requestor by its subject: directoryName [4].
      assert.equal(request.requestorName?.[0], 0xa4, c.name);
      assert.deepEqual(request.requestorName?.subarray(2), certificateFields(pki.requestorDer).subjectDer);
    }
  });

  test("signed request certs are the signer first, then -sign_other ones", () => {
    const c = cases.find((x) => x.name === "signed-sign-other");
    const certs = c === undefined ? [] : (decodeOcspRequest(c.der).signature?.certs ?? []);
    assert.deepEqual(certs, [pki.requestorDer, pki.leaf2Der]);
  });

  test("returned buffers share memory with the input", () => {
    const c = cases[0];
    assert.ok(c);
    const request = decodeOcspRequest(c.der);
    assert.equal(request.tbsRequestDer.buffer, c.der.buffer);
    assert.equal(request.requests[0]?.certId.serialNumber.buffer, c.der.buffer);
  });
});

// Hand-built requests for protocol edge cases. The CertID hashes are dummies of the right size.
const SHA1 = sequence(oid("1.3.14.3.2.26"), DER_NULL);
const certId = (alg = SHA1, nameHash = Buffer.alloc(20, 1), keyHash = Buffer.alloc(20, 2), serial = tlv(0x02, Buffer.of(0x01, 0x23))): Buffer =>
  sequence(alg, octetString(nameHash), octetString(keyHash), serial);
const ext = (id: string, value: Buffer, critical?: Buffer): Buffer =>
  critical === undefined ? sequence(oid(id), octetString(value)) : sequence(oid(id), critical, octetString(value));
const nonceExt = ext(id_pkix_ocsp_nonce, octetString(Buffer.alloc(16, 7)));
const single = (extensions?: Buffer[]): Buffer =>
  extensions === undefined ? sequence(certId()) : sequence(certId(), explicit(0, sequence(...extensions)));

interface Parts {
  version?: Buffer;
  requestorName?: Buffer;
  requests?: Buffer[];
  extensions?: Buffer[];
  signature?: Buffer;
}
function build(parts: Parts = {}): Buffer {
  const tbs: Buffer[] = [];
  if (parts.version) tbs.push(explicit(0, parts.version));
  if (parts.requestorName) tbs.push(explicit(1, parts.requestorName));
  tbs.push(sequence(...(parts.requests ?? [single()])));
  if (parts.extensions) tbs.push(explicit(2, sequence(...parts.extensions)));
  return parts.signature ? sequence(sequence(...tbs), parts.signature) : sequence(sequence(...tbs));
}
const signature = (bits: Buffer, certs?: Buffer[]): Buffer =>
  explicit(0, sequence(sequence(oid(ecdsa_with_SHA256)), bits, ...(certs ? [explicit(0, sequence(...certs))] : [])));
const ok = (der: Buffer): Buffer => der;

describe("decodeOcspRequest rejects what RFC 6960 and DER forbid", () => {
  const rejected: [string, () => Buffer, RegExp][] = [
    ["empty input", () => Buffer.alloc(0), /expected SEQUENCE|missing OCSPRequest/],
    ["trailing bytes after the OCSPRequest", () => Buffer.concat([build(), Buffer.of(0)]), /after the last field/],
    ["an unknown [3] field in TBSRequest", () => sequence(sequence(sequence(single()), tlv(0xa3, DER_NULL))), /unexpected \[3\] constructed after the last field/],
    ["an empty requestList", () => build({ requests: [] }), /requestList is empty/],
    ["101 requests (default limit 100)", () => build({ requests: Array.from({ length: 101 }, () => single()) }), /more than 100 requests/],
    ["version v2", () => build({ version: integer(1) }), /unsupported OCSPRequest version 2/],
    ["an MD5 CertID", () => build({ requests: [sequence(certId(sequence(oid("1.2.840.113549.2.5"), DER_NULL)))] }), /unsupported CertID hash algorithm 1\.2\.840\.113549\.2\.5/],
    ["hash parameters other than NULL", () => build({ requests: [sequence(certId(sequence(oid("1.3.14.3.2.26"), integer(0))))] }), /empty NULL/],
    ["SHA-256 with 20-octet hashes", () => build({ requests: [sequence(certId(sequence(oid(id_sha256))))] }), /sha256 needs 32/],
    ["a short issuerKeyHash", () => build({ requests: [sequence(certId(SHA1, Buffer.alloc(20), Buffer.alloc(19)))] }), /issuerKeyHash is 19 octets/],
    ["an empty serial", () => build({ requests: [sequence(certId(SHA1, undefined, undefined, Buffer.of(0x02, 0x00)))] }), /empty INTEGER/],
    ["a non-minimal serial", () => build({ requests: [sequence(certId(SHA1, undefined, undefined, Buffer.of(0x02, 0x02, 0x00, 0x01)))] }), /non-minimal INTEGER/],
    ["an unknown critical request extension", () => build({ extensions: [ext("1.2.3.4", DER_NULL, boolean(true))] }), /unknown critical extension 1\.2\.3\.4 in requestExtensions/],
    ["an unknown critical single request extension", () => build({ requests: [single([ext("1.2.3.4", DER_NULL, boolean(true))])] }), /unknown critical extension 1\.2\.3\.4 in singleRequestExtensions/],
    ["a duplicate nonce", () => build({ extensions: [nonceExt, nonceExt] }), /duplicate extension 1\.3\.6\.1\.5\.5\.7\.48\.1\.2/],
    ["a BER TRUE (0x01)", () => build({ extensions: [ext("1.2.3.4", DER_NULL, Buffer.of(0x01, 0x01, 0x01))] }), /0x00 or 0xff/],
    ["a malformed PreferredSignatureAlgorithms", () => build({ extensions: [ext(id_pkix_ocsp_pref_sig_algs, sequence(integer(1)))] }), /PreferredSignatureAlgorithm: expected SEQUENCE/],
    ["a non-minimal length", () => build({ requests: [sequence(sequence(SHA1, Buffer.concat([Buffer.of(0x04, 0x81, 20), Buffer.alloc(20)]), octetString(Buffer.alloc(20)), integer(1)))] }), /non-minimal length/],
    ["an indefinite length", () => Buffer.of(0x30, 0x80, 0x00, 0x00), /indefinite length/],
    ["a high tag number", () => build({ requestorName: Buffer.of(0x9f, 0x1f, 0x00) }), /high tag number/],
    ["a truncated request", () => build().subarray(0, 30), /runs past the end/],
    ["a length of 5 octets", () => Buffer.of(0x30, 0x85, 1, 0, 0, 0, 0), /too large/],
    ["a constructed OCTET STRING in a requestorName", () => build({ requestorName: tlv(0xa0, oid("1.2.3"), explicit(0, tlv(0x24, octetString(Buffer.of(1))))) }), /constructed OCTET STRING is not DER/],
    ["a requestorName that is not a GeneralName", () => build({ requestorName: integer(5) }), /not a GeneralName alternative/],
    ["an ediPartyName requestorName", () => build({ requestorName: tlv(0xa5, sequence()) }), /ediPartyName are not supported/],
    ["a requestorName with a non-ASCII dNSName", () => build({ requestorName: tlv(0x82, Buffer.from([0x61, 0xe9])) }), /non-ASCII/],
    ["a signature with unused bits", () => build({ signature: signature(Buffer.of(0x03, 0x02, 0x01, 0xaa)) }), /0 unused bits/],
    ["a signature certificate that is not a SEQUENCE", () => build({ signature: signature(bitString(Buffer.of(1)), [integer(1)]) }), /Certificate: expected SEQUENCE/],
    ["nesting beyond the depth limit", () => build({ requestorName: tlv(0xa0, oid("1.2.3"), explicit(0, Array.from({ length: 40 }).reduce<Buffer>((inner) => sequence(inner), DER_NULL))) }), /nesting deeper than 32/],
  ];
  for (const [name, make, message] of rejected) {
    test(`rejects ${name}`, () => {
      assert.throws(() => decodeOcspRequest(make()), (error: unknown) => {
        assert.ok(error instanceof MalformedRequestError, `not a MalformedRequestError: ${String(error)}`);
        assert.match(error.message, message);
        return true;
      });
    });
  }

  test("honours a lower maxRequests", () => {
    assert.throws(() => decodeOcspRequest(build({ requests: [single(), single(), single()] }), { maxRequests: 2 }), /more than 2 requests/);
    assert.equal(decodeOcspRequest(build({ requests: [single(), single()] }), { maxRequests: 2 }).requests.length, 2);
  });
});

describe("decodeOcspRequest accepts what real clients send", () => {
  const accepted: [string, () => Buffer, (request: ReturnType<typeof decodeOcspRequest>) => void][] = [
    ["an explicit version v1", () => build({ version: integer(0) }), (r) => assert.equal(r.requests.length, 1)],
    ["hash parameters absent", () => build({ requests: [sequence(certId(sequence(oid("1.3.14.3.2.26"))))] }), (r) => assert.equal(r.requests[0]?.certId.hashAlgorithm, "sha1")],
    ["a negative serial (non-conforming CAs exist)", () => build({ requests: [sequence(certId(SHA1, undefined, undefined, integer(-5)))] }), (r) => assert.deepEqual(r.requests[0]?.certId.serialNumber, Buffer.of(0xfb))],
    ["an explicit critical FALSE", () => build({ extensions: [ext("1.2.3.4", DER_NULL, boolean(false))] }), (r) => assert.deepEqual(r.extensions, [{ oid: "1.2.3.4", critical: false, value: DER_NULL }])],
    ["an unknown non-critical extension, kept", () => build({ requests: [single([ext("1.2.3.4", DER_NULL)])] }), (r) => assert.equal(r.requests[0]?.extensions[0]?.oid, "1.2.3.4")],
    ["a critical nonce, echoed unchanged", () => build({ extensions: [ext(id_pkix_ocsp_nonce, octetString(Buffer.alloc(8, 9)), boolean(true))] }), (r) => assert.deepEqual(r.nonce, octetString(Buffer.alloc(8, 9)))],
    ["a raw (pre-RFC 8954) nonce, echoed unchanged", () => build({ extensions: [ext(id_pkix_ocsp_nonce, Buffer.alloc(8, 9))] }), (r) => assert.deepEqual(r.nonce, Buffer.alloc(8, 9))],
    ["critical acceptable-responses and Identrus extensions", () => build({ extensions: [ext(id_pkix_ocsp_response, sequence(oid("1.3.6.1.5.5.7.48.1.1"))), ext(id_identrus_freshness_proof, DER_NULL, boolean(true))] }), (r) => assert.equal(r.extensions.length, 2)],
    [
      "preferred signature algorithms, with and without certIdentifier",
      () => build({ extensions: [ext(id_pkix_ocsp_pref_sig_algs, sequence(sequence(sequence(oid(ecdsa_with_SHA256))), sequence(sequence(oid(sha256WithRSAEncryption), DER_NULL), sequence(oid(rsaEncryption), DER_NULL))))] }),
      (r) => {
        assert.deepEqual(r.preferredSignatureAlgorithms.map((a) => a.oid), [ecdsa_with_SHA256, sha256WithRSAEncryption]);
        assert.deepEqual(r.preferredSignatureAlgorithms[1]?.der, sequence(oid(sha256WithRSAEncryption), DER_NULL));
      },
    ],
    ["an rfc822Name requestorName", () => build({ requestorName: tlv(0x81, Buffer.from("ops@example.com")) }), (r) => assert.deepEqual(r.requestorName, tlv(0x81, Buffer.from("ops@example.com")))],
    ["an unsigned request with no signature", () => ok(build()), (r) => assert.equal(r.signature, undefined)],
    ["a signature without certs", () => build({ signature: signature(bitString(Buffer.of(1, 2))) }), (r) => assert.deepEqual(r.signature?.signature, Buffer.of(1, 2))],
    ["lengths in long form where needed", () => build({ requests: Array.from({ length: 100 }, () => single()) }), (r) => assert.equal(r.requests.length, 100)],
  ];
  for (const [name, make, check] of accepted) {
    test(`accepts ${name}`, () => check(decodeOcspRequest(make())));
  }
});
