/**
 * acceptResponse on answers made by OpenSSL's own responder (`openssl ocsp -index … -respout`)
 * to requests made by `openssl ocsp -reqout`.
 */
import assert from "node:assert/strict";
import { mkdtemp, readFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { before, describe, test } from "node:test";
import { decodeOcspRequest } from "../ocsp/decode-request.ts";
import { decodeOcspResponse, type DecodedOcspResponse } from "../ocsp/decode-response.ts";
import { ERROR_RESPONSES } from "../ocsp/encode-response.ts";
import type { OcspRequest } from "../ocsp/types.ts";
import { fixedClock } from "../clock.ts";
import { certificateSerial, createPki, readPemDer, type Pki } from "../pki/openssl-pki.ts";
import { memorySource } from "../status/memory-source.ts";
import { revocationLookup } from "../trust/revocation-lookup.ts";
import { nameMatcher } from "../trust/name-match.ts";
import { openssl } from "../../test/support/openssl.ts";
import { acceptResponse, type Acceptance, type ResponseChecks } from "./accept-response.ts";

let pki: Pki;
let other: Pki;
let folder: string;
let caDer: Buffer;
let counter = 0;

before(async () => {
  folder = await mkdtemp(join(tmpdir(), "vouch-accept-"));
  [pki, other] = await Promise.all([createPki({ dir: join(folder, "pki") }), createPki({ dir: join(folder, "other") })]);
  caDer = await readPemDer(pki.ca);
});

/** A request (openssl ocsp -reqout) for `certs` of pki's CA, and OpenSSL's responder's answer signed by `signer`. */
async function exchange(certs: readonly string[], options: { signer?: Pki; requestArgs?: readonly string[] } = {}): Promise<{ request: OcspRequest; response: DecodedOcspResponse }> {
  const signer = options.signer ?? pki;
  const name = `x${counter++}`;
  const requestFile = join(folder, `${name}.req`);
  const responseFile = join(folder, `${name}.resp`);
  const ask = await openssl(["ocsp", "-issuer", pki.ca, ...certs.flatMap((cert) => ["-cert", cert]), "-reqout", requestFile, ...(options.requestArgs ?? ["-no_nonce"])]);
  assert.equal(ask.code, 0, ask.output);
  const answer = await openssl(["ocsp", "-index", pki.index, "-rsigner", signer.signer, "-rkey", signer.signerKey, "-CA", pki.ca, "-reqin", requestFile, "-respout", responseFile, "-ndays", "1"]);
  assert.equal(answer.code, 0, answer.output);
  return { request: decodeOcspRequest(await readFile(requestFile)), response: decodeOcspResponse(await readFile(responseFile)) };
}

const checks = (extra: Partial<ResponseChecks> = {}): ResponseChecks => ({
  verifySignature: true,
  trustedResponders: [],
  signerNames: undefined,
  nonce: "required",
  allowUnknown: true,
  clockSkewMs: 300_000,
  ...extra,
});

const accept = (made: { request: OcspRequest; response: DecodedOcspResponse }, extra: Partial<ResponseChecks> = {}, now = Date.now()): Promise<Acceptance> =>
  acceptResponse(made.response, made.request, checks(extra), () => caDer, now);

const verdict = (acceptance: Acceptance) => (acceptance.ok ? "ok" : acceptance.refused);

describe("acceptResponse", () => {
  test("an answer from the CA's delegated responder is accepted, with one answer per single request in request order", async () => {
    const made = await exchange([pki.good, pki.revoked]);
    const accepted = await accept(made);
    assert.ok(accepted.ok);
    assert.deepEqual(accepted.answers.map((answer) => answer.status.kind), ["good", "revoked"]);
    assert.deepEqual(accepted.answers.map((answer) => answer.certIdDer), made.request.requests.map((single) => single.certId.der));
  });

  test("an answer signed by another CA's responder is refused, unless that responder is configured, or the signature is not checked", async () => {
    const made = await exchange([pki.good], { signer: other });
    assert.equal(verdict(await accept(made)), "unauthorized-signer");
    assert.equal(verdict(await accept(made, { trustedResponders: [await readPemDer(other.signer)] })), "ok");
    assert.equal(verdict(await accept(made, { verifySignature: false })), "ok");
  });

  test("signer names: the signer's subject must also match a configured pattern", async () => {
    const made = await exchange([pki.good]);
    assert.equal(verdict(await accept(made, { signerNames: nameMatcher(["cn=Vouch Demo OCSP Signer,*"], "names") })), "ok");
    assert.equal(verdict(await accept(made, { signerNames: nameMatcher(["cn=Someone Else,*"], "names") })), "signer-name");
  });

  test("an unknown answer is refused when allowUnknown is false", async () => {
    // The foreign leaf's serial under this CA's CertID: OpenSSL's responder knows nothing of it.
    const made = await exchange([pki.foreign]);
    assert.equal(verdict(await accept(made)), "ok");
    assert.equal(verdict(await accept(made, { allowUnknown: false })), "unknown-answer");
  });

  test("the nonce must be echoed, and CertIDs must be the request's", async () => {
    const withNonce = await exchange([pki.good], { requestArgs: ["-nonce"] });
    assert.equal(verdict(await accept(withNonce)), "ok");
    const otherNonce = await exchange([pki.good], { requestArgs: ["-nonce"] });
    assert.equal(verdict(await accept({ request: withNonce.request, response: otherNonce.response })), "nonce-mismatch");
    assert.equal(verdict(await accept({ request: withNonce.request, response: otherNonce.response }, { verifySignature: false })), "nonce-mismatch");
    const good = await exchange([pki.good]);
    assert.equal(verdict(await accept({ request: withNonce.request, response: good.response })), "nonce-mismatch", "not echoed");
    assert.equal(verdict(await accept({ request: withNonce.request, response: good.response }, { nonce: "ifEchoed" })), "ok");
    assert.equal(verdict(await accept({ request: withNonce.request, response: otherNonce.response }, { nonce: "ifEchoed" })), "nonce-mismatch");
    const revoked = await exchange([pki.revoked]);
    assert.equal(verdict(await accept({ request: good.request, response: revoked.response })), "certid-mismatch");
    assert.equal(verdict(await accept({ request: good.request, response: revoked.response }, { verifySignature: false })), "certid-mismatch");
  });

  test("an answer past its nextUpdate is refused, whether or not the signature is checked", async () => {
    const made = await exchange([pki.good]);
    const later = Date.now() + 3 * 86_400_000;
    assert.equal(verdict(await accept(made, {}, later)), "expired");
    assert.equal(verdict(await accept(made, { verifySignature: false }, later)), "expired");
  });

  test("an OCSP error status from the remote is refused, named by its status", async () => {
    const made = await exchange([pki.good]);
    for (const status of ["unauthorized", "tryLater", "internalError", "malformedRequest", "sigRequired"] as const) {
      assert.equal(verdict(await accept({ request: made.request, response: decodeOcspResponse(ERROR_RESPONSES.get(status)!) })), `remote-${status}`);
    }
  });

  test("an answer signed by a delegated responder that Vouch's own sources know to be revoked is refused (it carries nocheck)", async () => {
    const made = await exchange([pki.good]);
    const source = memorySource({
      issuer: caDer,
      entries: new Map([[await certificateSerial(pki.signer), { kind: "revoked" as const, revokedAt: new Date("2025-01-01T00:00:00Z"), reason: "keyCompromise" as const }]]),
      listsIssued: false,
      clock: fixedClock(Date.now()),
    });
    const lookup = revocationLookup([{ certificate: caDer, source }]);
    const signerStatus = (signer: Buffer, issuer: Buffer) => lookup.status(signer, issuer, new AbortController().signal);
    assert.equal(verdict(await accept(made, { signerStatus })), "signer-revoked");
    // Without the check (or the signature not verified at all), as configured.
    assert.equal(verdict(await accept(made)), "ok");
    assert.equal(verdict(await accept(made, { signerStatus, verifySignature: false })), "ok");
  });
});
