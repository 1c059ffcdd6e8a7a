/**
 * Differential test: Vouch's decoder against @peculiar/asn1-ocsp, on openssl's requests
 * and on thousands of reproducibly mutated ones. Agreement is required except where
 * decode-request.ts documents that Vouch is deliberately stricter (STRICTER below).
 * The mutation sequence is fixed by the seed; the openssl-made bases are not (fresh keys,
 * nonces and ECDSA signatures each run), so every disagreement is reported with its input
 * in hex, which replays it exactly.
 */
import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";
import { OCSPRequest, Request, Signature } from "@peculiar/asn1-ocsp";
import { AsnConvert, AsnProp, AsnPropTypes } from "@peculiar/asn1-schema";
import { Extension as PeculiarExtension, GeneralName } from "@peculiar/asn1-x509";
import { MalformedRequestError } from "../errors.ts";
import { decodeOcspRequest } from "./decode-request.ts";
import { id_pkix_ocsp_nonce } from "./oids.ts";
import type { RequestCase, TestPki } from "./test-support/test-pki.ts";
import { makeTestPki, prng, requestCases } from "./test-support/test-pki.ts";
import type { OcspRequest } from "./types.ts";

// @peculiar/asn1-ocsp 2.6 declares singleRequestExtensions without its [0] EXPLICIT tag,
// so it cannot read NSS-style requests; patch the schema (test only).
AsnProp({ type: PeculiarExtension, repeated: "sequence", context: 0, optional: true })(Request.prototype, "singleRequestExtensions");
// Vouch only checks that request certificates are well-formed DER SEQUENCEs (whoever
// verifies the signature parses them as X.509), so @peculiar takes them as opaque too.
AsnProp({ type: AsnPropTypes.Any, repeated: "sequence", context: 0, optional: true })(Signature.prototype, "certs");

/**
 * A constructed element with the wrong tag where a SEQUENCE belongs: @peculiar checks only
 * constructedness there (at the top level and in SEQUENCE OF items).
 */
const NOT_SEQUENCE_TAG = {
  test(message: string): boolean {
    const match = /\(tag 0x([0-9a-f]{2}) for 0x30\)$/.exec(message);
    return match !== null && (parseInt(match[1] ?? "", 16) & 0x20) !== 0;
  },
};

/** Where Vouch rejects what @peculiar accepts, on purpose (see decode-request.ts). */
const STRICTER: readonly [string, { test(message: string): boolean }][] = [
  ["inner length overruns its parent (asn1js tolerates some)", /runs past the end|truncated/],
  ["constructed non-SEQUENCE tag where a SEQUENCE belongs", NOT_SEQUENCE_TAG],
  ["request certificate is not a SEQUENCE", /Certificate: expected SEQUENCE/],
  ["non-DER encoding", /non-minimal|indefinite length|high tag number|0x00 or 0xff|BOOLEAN must be one octet|is not DER|empty INTEGER|out of range|expected an empty NULL|reserved universal tag|unused bits|unused-bits octet/],
  ["invalid character string encoding", /UTF8String is not valid UTF-8|UniversalString length|BMPString length/],
  ["trailing bytes or unknown fields", /after the last field/],
  ["version other than v1", /unsupported OCSPRequest version/],
  ["empty requestList", /requestList is empty/],
  ["unsupported CertID hash", /unsupported CertID hash algorithm|hashAlgorithm parameters: expected an empty NULL|needs (20|32|48|64)$/],
  ["extension policy", /unknown critical extension|duplicate extension/],
  ["malformed known extension value", /in PreferredSignatureAlgorithm/],
  ["signature with unused bits", /must have 0 unused bits/],
  ["implausible requestorName", /requestorName|RelativeDistinguishedName|AttributeTypeAndValue|in Name/],
  ["bad OBJECT IDENTIFIER", /OBJECT IDENTIFIER/],
];

let pki: TestPki;
let cases: RequestCase[];
before(() => {
  pki = makeTestPki();
  cases = requestCases(pki);
});
after(() => pki.cleanup());

type Peculiar = OCSPRequest;

let lastPeculiarError = "";
function parsePeculiar(der: Buffer): Peculiar | undefined {
  try {
    // OCTET/BIT STRING contents are opaque in OCSP; asn1js's speculative parse of them as
    // embedded BER can reject valid signatures whose bytes happen to look like a bad header.
    return AsnConvert.parse(der, OCSPRequest, { berOptions: { parseEmbedded: false } });
  } catch (error) {
    lastPeculiarError = String(error);
    return undefined;
  }
}

/** Ours, insisting that the only possible failure is a MalformedRequestError. */
function parseOurs(der: Buffer): OcspRequest | MalformedRequestError {
  try {
    return decodeOcspRequest(der);
  } catch (error) {
    if (error instanceof MalformedRequestError) return error;
    throw new Error(`decoder threw a non-OCSP error on ${der.toString("hex")}`, { cause: error });
  }
}

const bytes = (data: ArrayBuffer | ArrayBufferView): Buffer =>
  ArrayBuffer.isView(data) ? Buffer.from(data.buffer, data.byteOffset, data.byteLength) : Buffer.from(data);

/** The fields both decoders expose, in a comparable form. */
function oursView(r: OcspRequest): unknown {
  return {
    certIds: r.requests.map(({ certId }) => [certId.issuerNameHash.toString("hex"), certId.issuerKeyHash.toString("hex"), certId.serialNumber.toString("hex")]),
    singleExtensions: r.requests.map((s) => s.extensions.map((e) => [e.oid, e.critical, e.value.toString("hex")])),
    extensions: r.extensions.map((e) => [e.oid, e.critical, e.value.toString("hex")]),
    nonce: r.nonce?.toString("hex"),
    // Compared as a value: re-encoding by @peculiar normalises strings, so both sides go through it.
    requestorName: r.requestorName === undefined ? undefined : bytes(AsnConvert.serialize(AsnConvert.parse(r.requestorName, GeneralName))).toString("hex"),
    signature: r.signature === undefined ? undefined : [r.signature.signature.toString("hex"), r.signature.certs.length],
  };
}

function peculiarView(p: Peculiar): unknown {
  const extension = (e: PeculiarExtension): unknown[] => [e.extnID, e.critical, bytes(e.extnValue.buffer).toString("hex")];
  const extensions = p.tbsRequest.requestExtensions ?? [];
  const nonce = extensions.find((e) => e.extnID === id_pkix_ocsp_nonce);
  const name = p.tbsRequest.requestorName;
  return {
    certIds: p.tbsRequest.requestList.map(({ reqCert }) => [
      bytes(reqCert.issuerNameHash.buffer).toString("hex"),
      bytes(reqCert.issuerKeyHash.buffer).toString("hex"),
      bytes(reqCert.serialNumber).toString("hex"),
    ]),
    singleExtensions: p.tbsRequest.requestList.map((s) => (s.singleRequestExtensions ?? []).map(extension)),
    extensions: extensions.map(extension),
    nonce: nonce === undefined ? undefined : bytes(nonce.extnValue.buffer).toString("hex"),
    requestorName: name === undefined ? undefined : bytes(AsnConvert.serialize(name)).toString("hex"),
    signature:
      p.optionalSignature === undefined
        ? undefined
        : [bytes(p.optionalSignature.signature).toString("hex"), p.optionalSignature.certs?.length ?? 0],
  };
}

/** Byte-level mutations that exercise tags, lengths, truncation and content. */
function mutate(input: Buffer, random: () => number): Buffer {
  const pick = (n: number): number => Math.floor(random() * n);
  let der = Buffer.from(input);
  const rounds = 1 + pick(3);
  for (let round = 0; round < rounds && der.length > 0; round++) {
    const at = pick(der.length);
    switch (pick(7)) {
      case 0:
        der = der.subarray(0, at);
        break;
      case 1:
        der[at] = (der[at] ?? 0) ^ (1 << pick(8));
        break;
      case 2:
        der = Buffer.concat([der.subarray(0, at), Buffer.of(pick(256)), der.subarray(at)]);
        break;
      case 3:
        der = Buffer.concat([der.subarray(0, at), der.subarray(at + 1)]);
        break;
      case 4: {
        const tags = [0x01, 0x02, 0x03, 0x04, 0x05, 0x06, 0x0a, 0x1f, 0x24, 0x30, 0x31, 0x80, 0x81, 0x82, 0x86, 0xa0, 0xa1, 0xa2, 0xa3, 0xa4];
        der[at] = tags[pick(tags.length)] ?? 0;
        break;
      }
      case 5: {
        const lengths = [0x00, 0x01, 0x7f, 0x80, 0x81, 0x82, 0x84, 0x85, 0xff, (der[at] ?? 0) + 1, (der[at] ?? 1) - 1];
        der[at] = (lengths[pick(lengths.length)] ?? 0) & 0xff;
        break;
      }
      default:
        // Append garbage: trailing bytes after a valid request.
        der = Buffer.concat([der, Buffer.of(pick(256))]);
    }
  }
  return der;
}

interface Tally {
  bothAccept: number;
  bothReject: number;
  stricter: Map<string, number>;
}

function compare(der: Buffer, tally: Tally, failures: string[]): void {
  const ours = parseOurs(der);
  const theirs = parsePeculiar(der);
  if (!(ours instanceof Error)) {
    if (theirs === undefined) {
      failures.push(`we accept, @peculiar rejects (${lastPeculiarError}): ${der.toString("hex")}`);
      return;
    }
    try {
      assert.deepEqual(oursView(ours), peculiarView(theirs));
    } catch (error) {
      failures.push(`fields differ on ${der.toString("hex")}: ${(error as Error).message}`);
    }
    tally.bothAccept++;
    return;
  }
  if (theirs === undefined) {
    tally.bothReject++;
    return;
  }
  const reason = STRICTER.find(([, pattern]) => pattern.test(ours.message))?.[0];
  if (reason === undefined) failures.push(`@peculiar accepts, we reject for an undocumented reason "${ours.message}": ${der.toString("hex")}`);
  else tally.stricter.set(reason, (tally.stricter.get(reason) ?? 0) + 1);
}

describe("decodeOcspRequest agrees with @peculiar/asn1-ocsp", () => {
  test("on every request openssl generated", () => {
    for (const c of cases) {
      const failures: string[] = [];
      const tally: Tally = { bothAccept: 0, bothReject: 0, stricter: new Map() };
      compare(c.der, tally, failures);
      assert.deepEqual(failures, [], c.name);
      assert.equal(tally.bothAccept, 1, c.name);
    }
  });

  test("on 5,000 mutated requests (fixed seed): only MalformedRequestError, and only documented disagreements", () => {
    // VOUCH_FUZZ_SEED / VOUCH_FUZZ_RUNS explore further; the default run is fixed.
    const random = prng(Number(process.env["VOUCH_FUZZ_SEED"] ?? 0x0c5b));
    const runs = Number(process.env["VOUCH_FUZZ_RUNS"] ?? 5000);
    const tally: Tally = { bothAccept: 0, bothReject: 0, stricter: new Map() };
    const failures: string[] = [];
    for (let i = 0; i < runs; i++) {
      const base = cases[Math.floor(random() * cases.length)];
      assert.ok(base);
      compare(mutate(base.der, random), tally, failures);
    }
    assert.deepEqual(failures.slice(0, 5), [], `${failures.length} disagreements`);
    // The corpus must exercise both outcomes, or the comparison proves nothing.
    assert.ok(tally.bothAccept > 100, `only ${tally.bothAccept} mutants accepted by both`);
    assert.ok(tally.bothReject > 1000, `only ${tally.bothReject} mutants rejected by both`);
  });
});
