/**
 * Micro-benchmark of the OCSP codec hot path: decode a one-certificate request with a nonce
 * (as `openssl ocsp` writes it) and encode a one-SingleResponse successful response around a
 * ready signature. Signing is left out on purpose: it costs the same with any codec.
 * The same work through @peculiar/asn1-ocsp gives the ratio.
 *
 *   node bench/codec-bench.ts [seconds-per-case]
 */
import { BasicOCSPResponse, CertID, CertStatus, OCSPRequest, OCSPResponse, ResponderID, ResponseBytes, ResponseData, SingleResponse } from "@peculiar/asn1-ocsp";
import { AsnConvert, OctetString } from "@peculiar/asn1-schema";
import { AlgorithmIdentifier, Extension as PeculiarExtension } from "@peculiar/asn1-x509";
import { certificateFields } from "../src/ocsp/certificate-fields.ts";
import { decodeOcspRequest } from "../src/ocsp/decode-request.ts";
import { oid, sequence } from "../src/ocsp/der-writer.ts";
import { encodeBasicOcspResponse, encodeResponseData } from "../src/ocsp/encode-response.ts";
import { ecdsa_with_SHA256, id_pkix_ocsp_basic, id_pkix_ocsp_nonce } from "../src/ocsp/oids.ts";
import { responderIdByKey } from "../src/ocsp/responder-id.ts";
import { makeTestPki, opensslRequest } from "../src/ocsp/test-support/test-pki.ts";

const secondsPerCase = Number(process.argv[2] ?? 1);

/** Runs `fn` repeatedly for about `secondsPerCase` after a warm-up; returns µs per call. */
function measure(fn: () => unknown): number {
  for (let i = 0; i < 2000; i++) fn();
  let iterations = 0;
  const start = process.hrtime.bigint();
  const budget = BigInt(Math.round(secondsPerCase * 1e9));
  let elapsed = 0n;
  while (elapsed < budget) {
    for (let i = 0; i < 500; i++) fn();
    iterations += 500;
    elapsed = process.hrtime.bigint() - start;
  }
  return Number(elapsed) / 1000 / iterations;
}

const pki = makeTestPki();
try {
  const requestDer = opensslRequest(pki, "bench", ["-issuer", pki.caPem, "-cert", pki.leaf1Pem]);
  const ca = certificateFields(pki.caDer);
  const responderIdDer = responderIdByKey(ca.subjectPublicKeyInfoDer);
  const signatureAlgorithm = sequence(oid(ecdsa_with_SHA256));
  const fakeSignature = Buffer.alloc(71, 0x5a); // the size of a P-256 ECDSA signature
  const now = new Date();
  const nextUpdate = new Date(now.getTime() + 3_600_000);

  const vouchDecode = (): unknown => decodeOcspRequest(requestDer);
  const vouchEncode = (): Buffer => {
    const request = decodeOcspRequest(requestDer);
    const single = request.requests[0];
    if (single === undefined || request.nonce === undefined) throw new Error("unexpected request");
    const tbs = encodeResponseData({
      responderIdDer,
      producedAt: now,
      responses: [{ certIdDer: single.certId.der, status: { kind: "good" }, thisUpdate: now, nextUpdate, invalidityDate: undefined, extensions: [] }],
      extensions: [{ oid: id_pkix_ocsp_nonce, critical: false, value: request.nonce }],
    });
    return encodeBasicOcspResponse(tbs, signatureAlgorithm, fakeSignature, []);
  };

  const peculiarDecode = (): OCSPRequest => AsnConvert.parse(requestDer, OCSPRequest);
  const peculiarRoundTrip = (): ArrayBuffer => {
    const request = peculiarDecode();
    const single = request.tbsRequest.requestList[0];
    const nonce = request.tbsRequest.requestExtensions?.find((e) => e.extnID === id_pkix_ocsp_nonce);
    if (single === undefined || nonce === undefined) throw new Error("unexpected request");
    const tbs = new ResponseData({
      responderID: new ResponderID({ byKey: new OctetString(responderIdDer.subarray(4)) }),
      producedAt: now,
      responses: [
        new SingleResponse({
          certID: new CertID(single.reqCert),
          certStatus: new CertStatus({ good: null }),
          thisUpdate: now,
          nextUpdate,
        }),
      ],
      responseExtensions: [new PeculiarExtension({ extnID: id_pkix_ocsp_nonce, critical: false, extnValue: nonce.extnValue })],
    });
    const basic = new BasicOCSPResponse({
      tbsResponseData: tbs,
      signatureAlgorithm: new AlgorithmIdentifier({ algorithm: ecdsa_with_SHA256 }),
      signature: fakeSignature.buffer.slice(fakeSignature.byteOffset, fakeSignature.byteOffset + fakeSignature.length),
    });
    const response = new OCSPResponse({
      responseStatus: 0,
      responseBytes: new ResponseBytes({ responseType: id_pkix_ocsp_basic, response: new OctetString(AsnConvert.serialize(basic)) }),
    });
    return AsnConvert.serialize(response);
  };

  // Both encoders must produce a response @peculiar can read, or the comparison is meaningless.
  AsnConvert.parse(vouchEncode(), OCSPResponse);
  AsnConvert.parse(peculiarRoundTrip(), OCSPResponse);

  const rows: [string, number, number][] = [
    ["decode request", measure(vouchDecode), measure(peculiarDecode)],
    ["decode + encode response", measure(vouchEncode), measure(peculiarRoundTrip)],
  ];
  console.log(`request ${requestDer.length} octets, response ${vouchEncode().length} octets, node ${process.version}`);
  console.log("case                       vouch µs/op   @peculiar µs/op   ratio");
  for (const [name, ours, theirs] of rows) {
    console.log(`${name.padEnd(26)} ${ours.toFixed(2).padStart(11)}   ${theirs.toFixed(2).padStart(15)}   ${(theirs / ours).toFixed(0).padStart(5)}x`);
  }
} finally {
  pki.cleanup();
}
