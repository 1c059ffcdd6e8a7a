import assert from "node:assert/strict";
import { readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { after, before, describe, test } from "node:test";
import { BasicOCSPResponse, OCSPResponse } from "@peculiar/asn1-ocsp";
import { AsnConvert } from "@peculiar/asn1-schema";
import { MalformedRequestError } from "../errors.ts";
import { explicit, octetString, oid, sequence, enumerated } from "./der-writer.ts";
import { decodeFreshnessProof, encodeFreshnessProof, freshnessProofExtension, MAX_PROOF_RESPONSES, ocspResponseAround } from "./freshness-proof.ts";
import { id_identrus_freshness_proof } from "./oids.ts";
import { makeTestPki, openssl, opensslRequest, type TestPki } from "./test-support/test-pki.ts";

let pki: TestPki;
let response1: Buffer;
let response2: Buffer;

/** A real OCSPResponse made by OpenSSL's responder (offline: -reqin/-respout) for `leafPem`. */
function opensslResponse(name: string, leafPem: string): Buffer {
  opensslRequest(pki, name, ["-issuer", pki.caPem, "-cert", leafPem, "-no_nonce"]);
  const out = join(pki.dir, `${name}.resp.der`);
  openssl(pki.dir, ["ocsp", "-index", "index.txt", "-CA", pki.caPem, "-rsigner", pki.caPem, "-rkey", pki.caKey, "-reqin", `${name}.req.der`, "-respout", out, "-ndays", "1"]);
  return readFileSync(out);
}

/** The BasicOCSPResponse inside a successful OCSPResponse, via @peculiar (an independent decoder). */
function basicOf(response: Buffer): Buffer {
  return Buffer.from(AsnConvert.parse(response, OCSPResponse).responseBytes!.response.buffer);
}

before(() => {
  pki = makeTestPki();
  writeFileSync(join(pki.dir, "index.txt"), "");
  response1 = opensslResponse("one", pki.leaf1Pem);
  response2 = opensslResponse("two", pki.leaf2Pem);
});
after(() => pki.cleanup());

describe("freshness proof codec", () => {
  test("encode then decode: SEQUENCE OF OCSPResponse, each response kept byte for byte", () => {
    const extension = freshnessProofExtension([response1, response2]);
    assert.equal(extension.oid, id_identrus_freshness_proof);
    assert.equal(extension.critical, false);
    assert.deepEqual(extension.value, sequence(response1, response2));
    const decoded = decodeFreshnessProof(extension.value);
    assert.deepEqual(
      decoded.map((entry) => entry.form),
      ["OCSPResponse", "OCSPResponse"],
    );
    assert.deepEqual(decoded[0]!.ocspResponseDer, response1);
    assert.deepEqual(decoded[1]!.ocspResponseDer, response2);
    assert.deepEqual(decoded[0]!.basicDer, basicOf(response1));
    AsnConvert.parse(decoded[1]!.basicDer, BasicOCSPResponse);
  });

  test("openssl asn1parse shows the documented structure", () => {
    const file = join(pki.dir, "proof.der");
    writeFileSync(file, encodeFreshnessProof([response1]));
    const text = openssl(pki.dir, ["asn1parse", "-inform", "DER", "-in", file, "-i"]);
    const lines = text.split("\n");
    assert.match(lines[0]!, /d=0 .* cons: SEQUENCE/);
    assert.match(lines[1]!, /d=1 .* cons: {2}SEQUENCE/);
    assert.match(lines[2]!, /d=2 .* prim: {3}ENUMERATED\s+:00/);
    assert.match(text, /OBJECT\s+:Basic OCSP Response/);
  });

  test("SEQUENCE OF BasicOCSPResponse is accepted, and wrapped into the same OCSPResponse", () => {
    const basic1 = basicOf(response1);
    const decoded = decodeFreshnessProof(sequence(basic1, response2));
    assert.equal(decoded[0]!.form, "BasicOCSPResponse");
    assert.equal(decoded[1]!.form, "OCSPResponse");
    assert.deepEqual(decoded[0]!.basicDer, basic1);
    // OpenSSL writes DER, so wrapping its BasicOCSPResponse again gives its OCSPResponse back.
    assert.deepEqual(decoded[0]!.ocspResponseDer, response1);
    assert.deepEqual(ocspResponseAround(basic1), response1);
  });

  test("anything else is a MalformedRequestError", () => {
    const basic = basicOf(response1);
    const tryLater = sequence(enumerated(3));
    const notBasic = sequence(enumerated(0), explicit(0, sequence(oid("1.3.6.1.5.5.7.48.1.99"), octetString(basic))));
    const basicWithoutSignature = sequence(...partsOfBasic(basic).slice(0, 2));
    const cases: [string, Buffer, RegExp][] = [
      ["empty list", sequence(), /empty/],
      ["trailing bytes", Buffer.concat([sequence(response1), Buffer.of(0)]), /after the last field|trailing/i],
      ["not a SEQUENCE", octetString(response1), /expected SEQUENCE/],
      ["an error response", sequence(tryLater), /responseStatus 3/],
      ["another response type", sequence(notBasic), /responseType/],
      ["a basic response without its signature", sequence(basicWithoutSignature), /signature/],
      ["too many responses", sequence(...Array.from({ length: MAX_PROOF_RESPONSES + 1 }, () => response1)), /at most/],
      ["a non-minimal length", Buffer.concat([Buffer.from([0x30, 0x81, response1.length]), response1]), /non-minimal|not DER/],
    ];
    for (const [name, value, message] of cases) {
      assert.throws(() => decodeFreshnessProof(value), (error: unknown) => error instanceof MalformedRequestError && message.test(error.message), name);
    }
  });

  test("the encoder refuses what the decoder would refuse", () => {
    assert.throws(() => encodeFreshnessProof([]), RangeError);
    assert.throws(() => encodeFreshnessProof([sequence(enumerated(1))]), /response 0: .*responseStatus 1/);
    assert.throws(() => encodeFreshnessProof([Buffer.concat([response1, Buffer.of(0)])]), RangeError);
  });
});

/** The outer TLVs of a BasicOCSPResponse's content. */
function partsOfBasic(basic: Buffer): Buffer[] {
  const parts: Buffer[] = [];
  const headerLength = basic[1]! < 0x80 ? 2 : 2 + (basic[1]! & 0x7f);
  let at = headerLength;
  while (at < basic.length) {
    const lengthOctet = basic[at + 1]!;
    const lengthOctets = lengthOctet < 0x80 ? 0 : lengthOctet & 0x7f;
    let length = lengthOctet < 0x80 ? lengthOctet : 0;
    for (let i = 0; i < lengthOctets; i++) length = length * 256 + basic[at + 2 + i]!;
    const end = at + 2 + lengthOctets + length;
    parts.push(basic.subarray(at, end));
    at = end;
  }
  return parts;
}
