import assert from "node:assert/strict";
import { createPrivateKey, createPublicKey, sign, verify } from "node:crypto";
import type { KeyObject } from "node:crypto";
import { readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { after, before, describe, test } from "node:test";
import { BasicOCSPResponse, OCSPResponse } from "@peculiar/asn1-ocsp";
import { AsnConvert } from "@peculiar/asn1-schema";
import { OCSP_ERROR_STATUSES, OCSP_RESPONSE_STATUS_CODES } from "../errors.ts";
import { encodeCertId } from "./cert-id.ts";
import { certificateFields } from "./certificate-fields.ts";
import { decodeOcspRequest } from "./decode-request.ts";
import { DerReader } from "./der-reader.ts";
import { DER_NULL, integer, octetString, oid, sequence } from "./der-writer.ts";
import { ERROR_RESPONSES, encodeBasicOcspResponse, encodeErrorResponse, encodeResponseData } from "./encode-response.ts";
import { ecdsa_with_SHA256, id_ce_invalidityDate, id_pkix_ocsp_basic, id_pkix_ocsp_extended_revoke, id_pkix_ocsp_nonce } from "./oids.ts";
import { responderIdByKey, responderIdByName } from "./responder-id.ts";
import type { TestPki } from "./test-support/test-pki.ts";
import { makeTestPki, openssl, opensslOutput, opensslRequest, prng } from "./test-support/test-pki.ts";
import { oracleResponseData } from "./test-support/reference-encode-response.ts";
import type { CertStatus, CrlReason, Extension, OcspRequest, ResponseData, SingleResponse } from "./types.ts";
import { CRL_REASON_CODES } from "./types.ts";

let pki: TestPki;
let caKey: KeyObject;
let request: OcspRequest;
let requestPath: string;

// Whole seconds: GeneralizedTime carries no fraction, so this makes round trips exact.
const now = new Date(Math.floor(Date.now() / 1000) * 1000);
const minutes = (n: number): Date => new Date(now.getTime() + n * 60_000);
const ECDSA_SHA256 = sequence(oid(ecdsa_with_SHA256));

before(() => {
  pki = makeTestPki();
  caKey = createPrivateKey(readFileSync(pki.caKey));
  opensslRequest(pki, "pair", ["-issuer", pki.caPem, "-cert", pki.leaf1Pem, "-cert", pki.leaf2Pem]);
  requestPath = join(pki.dir, "pair.req.der");
  request = decodeOcspRequest(readFileSync(requestPath));
});
after(() => pki.cleanup());

/** leaf1 good, leaf2 revoked (keyCompromise, with an invalidity date), a third serial unknown; nonce echoed. */
function responseData(responderIdDer: Buffer): ResponseData {
  const [first, second] = request.requests;
  assert.ok(first && second);
  const common = { thisUpdate: minutes(-1), nextUpdate: minutes(60), invalidityDate: undefined, extensions: [] };
  const responses: SingleResponse[] = [
    { ...common, certIdDer: first.certId.der, status: { kind: "good" } },
    {
      ...common,
      certIdDer: second.certId.der,
      status: { kind: "revoked", revokedAt: minutes(-30), reason: "keyCompromise" },
      invalidityDate: minutes(-90),
    },
    { ...common, certIdDer: encodeCertId("sha1", pki.caDer, Buffer.of(0x55)), status: { kind: "unknown" }, nextUpdate: undefined },
  ];
  assert.ok(request.nonce);
  return {
    responderIdDer,
    producedAt: now,
    responses,
    extensions: [{ oid: id_pkix_ocsp_nonce, critical: false, value: request.nonce }],
  };
}

function signedResponse(data: ResponseData, certs: Buffer[] = [pki.caDer]): Buffer {
  const tbs = encodeResponseData(data);
  return encodeBasicOcspResponse(tbs, ECDSA_SHA256, sign("sha256", tbs, caKey), certs);
}

function writeResponse(name: string, der: Buffer): string {
  const path = join(pki.dir, `${name}.resp.der`);
  writeFileSync(path, der);
  return path;
}

const responders = (): [string, Buffer][] => {
  const ca = certificateFields(pki.caDer);
  return [
    ["byKey", responderIdByKey(ca.subjectPublicKeyInfoDer)],
    ["byName", responderIdByName(ca.subjectDer)],
  ];
};

describe("encodeBasicOcspResponse, checked by openssl", () => {
  test("openssl prints each status, the reason, the invalidity date and the echoed nonce", () => {
    const path = writeResponse("text", signedResponse(responseData(responders()[0]?.[1] ?? Buffer.alloc(0))));
    const text = openssl(pki.dir, ["ocsp", "-respin", path, "-resp_text", "-noverify"]);
    assert.match(text, /OCSP Response Status: successful \(0x0\)/);
    assert.match(text, /Response Type: Basic OCSP Response/);
    assert.equal(text.match(/Cert Status: good/g)?.length, 1);
    assert.equal(text.match(/Cert Status: revoked/g)?.length, 1);
    assert.equal(text.match(/Cert Status: unknown/g)?.length, 1);
    assert.match(text, /Revocation Reason: keyCompromise \(0x1\)/);
    assert.match(text, /Invalidity Date/);
    assert.match(text, /OCSP Nonce/);
  });

  for (const [name] of [["byKey"], ["byName"]] as const) {
    test(`a CA-signed response with ResponderID ${name} verifies and matches the request's nonce`, () => {
      const responderId = responders().find(([n]) => n === name)?.[1];
      assert.ok(responderId);
      const path = writeResponse(name, signedResponse(responseData(responderId)));
      const withNonce = opensslOutput(pki.dir, ["ocsp", "-reqin", requestPath, "-respin", path, "-CAfile", pki.caPem, "-VAfile", pki.caPem]);
      assert.match(withNonce, /Response verify OK/);
      assert.doesNotMatch(withNonce, /nonce/i);
      const statuses = opensslOutput(pki.dir, [
        "ocsp", "-respin", path, "-issuer", pki.caPem, "-cert", pki.leaf1Pem, "-cert", pki.leaf2Pem,
        "-no_nonce", "-CAfile", pki.caPem, "-VAfile", pki.caPem,
      ]);
      assert.match(statuses, /Response verify OK/);
      assert.match(statuses, /leaf1\.pem: good/);
      assert.match(statuses, /leaf2\.pem: revoked/);
    });
  }

  test("a response without certs still verifies against the VAfile", () => {
    const path = writeResponse("nocerts", signedResponse(responseData(responders()[0]?.[1] ?? Buffer.alloc(0)), []));
    const out = opensslOutput(pki.dir, ["ocsp", "-reqin", requestPath, "-respin", path, "-CAfile", pki.caPem, "-VAfile", pki.caPem]);
    assert.match(out, /Response verify OK/);
  });
});

describe("encodeBasicOcspResponse, checked by @peculiar/asn1-ocsp", () => {
  test("parses with the fields that were encoded", () => {
    const data = responseData(responders()[0]?.[1] ?? Buffer.alloc(0));
    const der = signedResponse(data);
    const outer = AsnConvert.parse(der, OCSPResponse);
    assert.equal(outer.responseStatus, 0);
    assert.equal(outer.responseBytes?.responseType, id_pkix_ocsp_basic);
    const basic = AsnConvert.parse(outer.responseBytes?.response.buffer ?? new ArrayBuffer(0), BasicOCSPResponse);
    const tbs = basic.tbsResponseData;
    assert.equal(tbs.version, 0);
    assert.equal(tbs.producedAt.getTime(), now.getTime());
    assert.deepEqual(Buffer.from(tbs.responderID.byKey?.buffer ?? new ArrayBuffer(0)), responders()[0]?.[1].subarray(4));
    const [good, revoked, unknown] = tbs.responses;
    assert.ok(good && revoked && unknown);
    assert.ok(good.certStatus.revoked === undefined && good.certStatus.unknown === undefined);
    assert.equal(revoked.certStatus.revoked?.revocationTime.getTime(), minutes(-30).getTime());
    assert.equal(revoked.certStatus.revoked?.revocationReason?.reason, 1);
    assert.equal(revoked.singleExtensions?.[0]?.extnID, id_ce_invalidityDate);
    assert.ok(unknown.certStatus.unknown !== undefined);
    assert.equal(unknown.nextUpdate, undefined);
    assert.equal(good.thisUpdate.getTime(), minutes(-1).getTime());
    assert.equal(good.nextUpdate?.getTime(), minutes(60).getTime());
    assert.deepEqual(Buffer.from(AsnConvert.serialize(good.certID)), request.requests[0]?.certId.der);
    const nonce = tbs.responseExtensions?.find((e) => e.extnID === id_pkix_ocsp_nonce);
    assert.deepEqual(Buffer.from(nonce?.extnValue.buffer ?? new ArrayBuffer(0)), request.nonce);
    assert.equal(basic.certs?.length, 1);
    // The signature covers exactly the tbsResponseData bytes that were encoded.
    const caPublic = createPublicKey(readFileSync(pki.caPem));
    assert.ok(verify("sha256", encodeResponseData(data), caPublic, Buffer.from(basic.signature)));
  });

  test("certs [0] is omitted when there are no certificates", () => {
    const der = signedResponse(responseData(responders()[1]?.[1] ?? Buffer.alloc(0)), []);
    const outer = AsnConvert.parse(der, OCSPResponse);
    const basic = AsnConvert.parse(outer.responseBytes?.response.buffer ?? new ArrayBuffer(0), BasicOCSPResponse);
    assert.equal(basic.certs, undefined);
  });
});

/** The tags of a SEQUENCE's direct children. */
function childTags(der: Buffer): number[] {
  const top = DerReader.of(der, "test");
  const inner = top.enterNext(0x30, "ResponseData");
  const tags: number[] = [];
  while (inner.hasMore) tags.push(inner.next().tag);
  return tags;
}

describe("encodeResponseData encoding choices", () => {
  const certIdDer = sequence(oid("1.2.3"));
  const single = (overrides: Partial<SingleResponse> = {}): SingleResponse => ({
    certIdDer,
    status: { kind: "good" },
    thisUpdate: now,
    nextUpdate: undefined,
    invalidityDate: undefined,
    extensions: [],
    ...overrides,
  });
  const data = (responses: SingleResponse[], extensions: ResponseData["extensions"] = []): ResponseData => ({
    responderIdDer: Buffer.of(0xa2, 0x02, 0x04, 0x00),
    producedAt: now,
    responses,
    extensions,
  });

  const cases: [string, ResponseData, (der: Buffer) => void][] = [
    ["omits the version and starts with the ResponderID", data([single()]), (der) => assert.deepEqual(der.subarray(2, 6), Buffer.of(0xa2, 0x02, 0x04, 0x00))],
    ["encodes good as 80 00", data([single()]), (der) => assert.ok(der.includes(Buffer.of(0x80, 0x00)))],
    ["encodes unknown as 82 00", data([single({ status: { kind: "unknown" } })]), (der) => assert.ok(der.includes(Buffer.of(0x82, 0x00)))],
    [
      "encodes revoked without a reason as [1] { GeneralizedTime }",
      data([single({ status: { kind: "revoked", revokedAt: now, reason: undefined } })]),
      (der) => assert.ok(der.includes(Buffer.of(0xa1, 0x11, 0x18, 0x0f))),
    ],
    [
      "encodes removeFromCRL as ENUMERATED 8",
      data([single({ status: { kind: "revoked", revokedAt: now, reason: "removeFromCRL" } })]),
      (der) => assert.ok(der.includes(Buffer.of(0xa0, 0x03, 0x0a, 0x01, 0x08))),
    ],
    ["omits responseExtensions when empty", data([single()]), (der) => assert.deepEqual(childTags(der), [0xa2, 0x18, 0x30])],
    ["ends with responseExtensions [1] when present", data([single()], [{ oid: "1.2.3.4", critical: false, value: Buffer.alloc(0) }]), (der) => assert.deepEqual(childTags(der), [0xa2, 0x18, 0x30, 0xa1])],
    [
      "writes critical TRUE (01 01 ff) and never FALSE",
      data([single()], [
        { oid: id_pkix_ocsp_extended_revoke, critical: false, value: Buffer.of(0x05, 0x00) },
        { oid: "1.2.3.4", critical: true, value: Buffer.of(0x05, 0x00) },
      ]),
      (der) => {
        assert.equal(der.indexOf(Buffer.of(0x01, 0x01, 0xff)), der.lastIndexOf(Buffer.of(0x01, 0x01, 0xff)));
        assert.ok(der.includes(Buffer.of(0x01, 0x01, 0xff)));
        assert.ok(!der.includes(Buffer.of(0x01, 0x01, 0x00)));
      },
    ],
  ];
  for (const [name, input, check] of cases) test(name, () => check(encodeResponseData(input)));

  test("rejects dates that GeneralizedTime cannot carry", () => {
    assert.throws(() => encodeResponseData(data([single({ thisUpdate: new Date(Number.NaN) })])), RangeError);
  });
});

describe("error responses", () => {
  const expected: [keyof typeof OCSP_RESPONSE_STATUS_CODES, number[]][] = [
    ["malformedRequest", [0x30, 0x03, 0x0a, 0x01, 0x01]],
    ["internalError", [0x30, 0x03, 0x0a, 0x01, 0x02]],
    ["tryLater", [0x30, 0x03, 0x0a, 0x01, 0x03]],
    ["sigRequired", [0x30, 0x03, 0x0a, 0x01, 0x05]],
    ["unauthorized", [0x30, 0x03, 0x0a, 0x01, 0x06]],
  ];
  for (const [status, bytes] of expected) {
    if (status === "successful") continue;
    test(`${status} is the RFC 6960 form and @peculiar reads its status`, () => {
      assert.deepEqual(encodeErrorResponse(status), Buffer.from(bytes));
      const parsed = AsnConvert.parse(encodeErrorResponse(status), OCSPResponse);
      assert.equal(parsed.responseStatus, OCSP_RESPONSE_STATUS_CODES[status]);
      assert.equal(parsed.responseBytes, undefined);
    });
  }

  test("ERROR_RESPONSES covers every error status", () => {
    assert.deepEqual([...ERROR_RESPONSES.keys()].sort(), [...OCSP_ERROR_STATUSES].sort());
  });
});

/** Reproducible random ResponseData, reaching every branch of the encoder and its length forms. */
function generator(seed: number) {
  const next = prng(seed);
  const below = (n: number): number => Math.floor(next() * n);
  const pick = <T>(items: readonly T[]): T => items[below(items.length)] as T;
  const bytes = (n: number): Buffer => Buffer.from(Array.from({ length: n }, () => below(256)));
  // GeneralizedTime carries the years 0 to 9999; Date.UTC would map years 0..99 to 19xx.
  const firstMs = new Date(0).setUTCFullYear(0, 0, 1);
  const endMs = Date.UTC(10000, 0, 1);
  const time = (): Date => {
    switch (below(5)) {
      case 0: return new Date(now.getTime() + below(2e10) - 1e10); // near now, with milliseconds
      case 1: return new Date(firstMs + below(endMs - firstMs)); // any year that fits
      case 2: return new Date(firstMs + below(1e8)); // the first days of year 0
      case 3: return new Date(endMs - 1 - below(1e8)); // the last days of 9999
      default: return new Date(Date.UTC(1900 + below(300), below(12), 1 + below(28), below(24), below(60), below(60)));
    }
  };
  const optionalTime = (): Date | undefined => (below(2) === 0 ? undefined : time());
  const hashes: [string, number][] = [["1.3.14.3.2.26", 20], ["2.16.840.1.101.3.4.2.1", 32], ["2.16.840.1.101.3.4.2.2", 48], ["2.16.840.1.101.3.4.2.3", 64]];
  const certIdDer = (): Buffer => {
    const [hashOid, size] = pick(hashes);
    const serial = Buffer.concat([Buffer.of(1 + below(0x7f)), bytes(below(20))]);
    return sequence(sequence(oid(hashOid), DER_NULL), octetString(bytes(size)), octetString(bytes(size)), integer(serial));
  };
  const reasons = [undefined, ...Object.keys(CRL_REASON_CODES)] as (CrlReason | undefined)[];
  const status = (): CertStatus => {
    const kind = below(3);
    if (kind === 0) return { kind: "good" };
    if (kind === 1) return { kind: "unknown" };
    return { kind: "revoked", revokedAt: time(), reason: pick(reasons) };
  };
  const oids = ["1.2.3", "1.3.6.1.4.1.311.21.4", id_pkix_ocsp_extended_revoke, "2.25.329800735698586629295641978511506172918"];
  const extension = (): Extension => ({ oid: pick(oids), critical: below(2) === 0, value: bytes(pick([0, 2, 50, 127, 128, 300])) });
  const extensions = (): Extension[] => Array.from({ length: pick([0, 0, 1, 2]) }, extension);
  const single = (): SingleResponse => ({
    certIdDer: certIdDer(), status: status(), thisUpdate: time(), nextUpdate: optionalTime(), invalidityDate: optionalTime(), extensions: extensions(),
  });
  const responderIdDer = (): Buffer =>
    below(2) === 0 ? responderIdByKey({ subjectPublicKey: bytes(65) }) : responderIdByName(sequence(bytes(below(300))));
  /** Case `i` echoes a nonce of i % 201 octets, so every nonce length 0..200 is covered. */
  return (i: number): ResponseData => {
    const nonce: Extension = { oid: id_pkix_ocsp_nonce, critical: false, value: octetString(bytes(i % 201)) };
    const more = below(4) === 0 ? extensions() : [];
    return { responderIdDer: responderIdDer(), producedAt: time(), responses: Array.from({ length: 1 + below(5) }, single), extensions: below(5) === 0 ? more : [nonce, ...more] };
  };
}

/** The encoding, or the error's class and message. */
function outcome(encode: (data: ResponseData) => Buffer, data: ResponseData): string {
  try {
    return encode(data).toString("hex");
  } catch (error) {
    return error instanceof Error ? `${error.constructor.name}: ${error.message}` : String(error);
  }
}

describe("encodeResponseData matches the previous implementation", () => {
  test("byte for byte on 3000 generated ResponseData values", () => {
    const generate = generator(0x5eed);
    for (let i = 0; i < 3000; i++) {
      const data = generate(i);
      const ours = encodeResponseData(data);
      const expected = oracleResponseData(data);
      if (!ours.equals(expected)) assert.fail(`case ${i}: got ${ours.toString("hex")}, expected ${expected.toString("hex")}`);
    }
  });

  test("with the same error on 1000 values carrying bad dates, reasons or OIDs", () => {
    const generate = generator(0xbad);
    const next = prng(0xfa17);
    const badDates = [new Date(Number.NaN), new Date(new Date(0).setUTCFullYear(-1, 11, 31)), new Date(Date.UTC(10000, 0, 1))];
    const fault = <T>(good: T, bad: T): T => (next() < 0.1 ? bad : good);
    for (let i = 0; i < 1000; i++) {
      const data = generate(i);
      const badDate = badDates[i % badDates.length] as Date;
      const faulty: ResponseData = {
        ...data,
        producedAt: fault(data.producedAt, badDate),
        responses: data.responses.map((single) => ({
          ...single,
          status: fault(single.status, next() < 0.5 ? { kind: "revoked", revokedAt: badDate, reason: undefined } : { kind: "revoked", revokedAt: now, reason: "bogus" as CrlReason }),
          thisUpdate: fault(single.thisUpdate, badDate),
          nextUpdate: fault(single.nextUpdate, badDate),
          invalidityDate: fault(single.invalidityDate, badDate),
          extensions: fault(single.extensions, [{ oid: "1.40", critical: false, value: Buffer.alloc(0) }]),
        })),
        extensions: fault(data.extensions, [...data.extensions, { oid: "3.1", critical: true, value: Buffer.alloc(0) }]),
      };
      assert.equal(outcome(encodeResponseData, faulty), outcome(oracleResponseData, faulty), `case ${i}`);
    }
  });
});
