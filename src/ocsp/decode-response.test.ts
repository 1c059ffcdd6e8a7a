/**
 * The response decoder on responses OpenSSL's own responder made (`openssl ocsp -index … -respout`),
 * compared field by field with the reference decoder (@peculiar/asn1-ocsp), plus error statuses and
 * hostile bytes, which must only ever give BadResponseError.
 */
import assert from "node:assert/strict";
import { mkdtemp, readFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { before, describe, test } from "node:test";
import { AsnConvert } from "@peculiar/asn1-schema";
import { BasicOCSPResponse, OCSPResponse } from "@peculiar/asn1-ocsp";
import { BadResponseError } from "../errors.ts";
import { createPki, readPemDer, type Pki } from "../pki/openssl-pki.ts";
import { openssl } from "../../test/support/openssl.ts";
import { decodeBasicOcspResponse, decodeOcspResponse, type DecodedBasicResponse } from "./decode-response.ts";
import { ERROR_RESPONSES } from "./encode-response.ts";

let pki: Pki;
let folder: string;

before(async () => {
  folder = await mkdtemp(join(tmpdir(), "vouch-decode-response-"));
  pki = await createPki({ dir: join(folder, "pki"), caKeyType: "rsa-2048" });
});

/** Asks OpenSSL's responder (offline: -reqin/-respout) about `certs`, as `openssl ocsp` would. */
async function opensslResponse(name: string, certs: readonly string[], extra: readonly string[] = []): Promise<Buffer> {
  const request = join(folder, `${name}.req`);
  const response = join(folder, `${name}.resp`);
  const ask = await openssl(["ocsp", "-issuer", pki.ca, ...certs.flatMap((cert) => ["-cert", cert]), ...extra, "-reqout", request]);
  assert.equal(ask.code, 0, ask.output);
  const answer = await openssl(["ocsp", "-index", pki.index, "-rsigner", pki.signer, "-rkey", pki.signerKey, "-CA", pki.ca, "-reqin", request, "-respout", response, "-ndays", "1"]);
  assert.equal(answer.code, 0, answer.output);
  return readFile(response);
}

function basicOf(decoded: ReturnType<typeof decodeOcspResponse>): DecodedBasicResponse {
  assert.equal(decoded.status, "successful");
  return (decoded as Extract<typeof decoded, { status: "successful" }>).basic;
}

describe("decodeOcspResponse", () => {
  test("reads what OpenSSL's responder answers, field for field as the reference decoder does", async () => {
    const der = await opensslResponse("three", [pki.good, pki.revoked, pki.foreign]);
    const basic = basicOf(decodeOcspResponse(der));
    const reference = AsnConvert.parse(AsnConvert.parse(der, OCSPResponse).responseBytes!.response.buffer, BasicOCSPResponse);

    assert.deepEqual(basic.tbsResponseDataDer, Buffer.from(AsnConvert.serialize(reference.tbsResponseData)));
    assert.deepEqual(basic.signature, Buffer.from(reference.signature));
    assert.equal(basic.signatureAlgorithm.oid, reference.signatureAlgorithm.algorithm);
    assert.equal(basic.certs.length, reference.certs?.length ?? 0);
    assert.deepEqual(basic.certs[0], await readPemDer(pki.signer));
    assert.equal(basic.producedAt.getTime(), reference.tbsResponseData.producedAt.getTime());
    assert.equal(basic.responses.length, 3);
    basic.responses.forEach((single, index) => {
      const expected = reference.tbsResponseData.responses[index]!;
      assert.deepEqual(single.certId.der, Buffer.from(AsnConvert.serialize(expected.certID)));
      assert.deepEqual(single.certId.serialNumber, Buffer.from(expected.certID.serialNumber));
      assert.equal(single.thisUpdate.getTime(), expected.thisUpdate.getTime());
      assert.equal(single.nextUpdate?.getTime(), expected.nextUpdate?.getTime());
      assert.deepEqual(single.der, Buffer.from(AsnConvert.serialize(expected)));
    });
    assert.deepEqual(basic.responses.map((single) => single.status.kind), ["good", "revoked", "unknown"]);
    const revoked = basic.responses[1]!.status;
    assert.equal(revoked.kind === "revoked" && revoked.reason, "keyCompromise");
  });

  test("keeps the nonce in the same form as the request carries it, and the responder ID byName", async () => {
    const der = await opensslResponse("nonce", [pki.good], ["-nonce"]);
    const basic = basicOf(decodeOcspResponse(der));
    assert.ok(basic.nonce !== undefined);
    assert.equal(basic.nonce[0], 0x04, "the extnValue content is the DER OCTET STRING of RFC 8954");
    assert.equal(basic.responderId.kind, "byName");
    const withoutNonce = basicOf(decodeOcspResponse(await opensslResponse("no-nonce", [pki.good], ["-no_nonce"])));
    assert.equal(withoutNonce.nonce, undefined);
  });

  test("reads every error status Vouch itself sends", () => {
    for (const [status, body] of ERROR_RESPONSES) {
      assert.deepEqual(decodeOcspResponse(body), { status, der: body });
    }
  });

  test("a bare BasicOCSPResponse decodes with decodeBasicOcspResponse", async () => {
    const der = await opensslResponse("bare", [pki.good]);
    const basic = basicOf(decodeOcspResponse(der));
    assert.deepEqual(decodeBasicOcspResponse(basic.der).tbsResponseDataDer, basic.tbsResponseDataDer);
  });

  test("truncations, bit flips and trailing bytes give BadResponseError and nothing else", async () => {
    const der = await opensslResponse("mutants", [pki.good, pki.revoked]);
    let seed = 7;
    const random = () => (seed = (seed * 1103515245 + 12345) % 2 ** 31) / 2 ** 31;
    const mutants: Buffer[] = [Buffer.alloc(0), Buffer.from([0x30, 0x80, 0x00, 0x00]), Buffer.concat([der, Buffer.from([0])])];
    for (let cut = 1; cut < der.length; cut += 7) mutants.push(der.subarray(0, cut));
    for (let index = 0; index < 2_000; index++) {
      const copy = Buffer.from(der);
      copy[Math.floor(random() * copy.length)]! ^= 1 << Math.floor(random() * 8);
      mutants.push(copy);
    }
    let failures = 0;
    for (const mutant of mutants) {
      try {
        decodeOcspResponse(mutant);
      } catch (error) {
        assert.ok(error instanceof BadResponseError, `${String(error)} for ${mutant.toString("hex")}`);
        failures++;
      }
    }
    assert.ok(failures > mutants.length / 10, `only ${failures} of ${mutants.length} mutants failed to decode`);
  });
});
