/**
 * checkResponse on responses made by OpenSSL's own responder (`openssl ocsp -index … -respout`),
 * signed by the CA, by its delegated responder, and by a responder of another CA.
 */
import assert from "node:assert/strict";
import { mkdtemp, readFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { before, describe, test } from "node:test";
import { decodeOcspResponse, type DecodedBasicResponse } from "../ocsp/decode-response.ts";
import { fixedClock } from "../clock.ts";
import { TryLaterError } from "../errors.ts";
import { certificateFields } from "../ocsp/certificate-fields.ts";
import { certificateSerial, createPki, issueCertificate, readPemDer, type Pki } from "../pki/openssl-pki.ts";
import { memorySource, type MemoryEntry } from "../status/memory-source.ts";
import { revocationLookup } from "../trust/revocation-lookup.ts";
import { openssl } from "../../test/support/openssl.ts";
import { checkResponse, type ResponseCheckOptions } from "./check-response.ts";

let pki: Pki;
let other: Pki;
let folder: string;
let caDer: Buffer;
let counter = 0;

before(async () => {
  folder = await mkdtemp(join(tmpdir(), "vouch-check-response-"));
  [pki, other] = await Promise.all([createPki({ dir: join(folder, "pki") }), createPki({ dir: join(folder, "other") })]);
  caDer = await readPemDer(pki.ca);
});

interface Made {
  readonly basic: DecodedBasicResponse;
  readonly requestCertIds: readonly Buffer[];
}

/** A request for `certs` and OpenSSL's responder's answer, signed by `signer`/`key`. */
async function made(certs: readonly string[], signer = pki.signer, key = pki.signerKey, extra: readonly string[] = []): Promise<Made> {
  const name = `r${counter++}`;
  const request = join(folder, `${name}.req`);
  const response = join(folder, `${name}.resp`);
  const ask = await openssl(["ocsp", "-issuer", pki.ca, ...certs.flatMap((cert) => ["-cert", cert]), "-reqout", request, ...extra]);
  assert.equal(ask.code, 0, ask.output);
  const answer = await openssl(["ocsp", "-index", pki.index, "-rsigner", signer, "-rkey", key, "-CA", pki.ca, "-reqin", request, "-respout", response, "-ndays", "1"]);
  assert.equal(answer.code, 0, answer.output);
  const decoded = decodeOcspResponse(await readFile(response));
  assert.equal(decoded.status, "successful");
  const basic = (decoded as Extract<typeof decoded, { status: "successful" }>).basic;
  return { basic, requestCertIds: basic.responses.map((single) => single.certId.der) };
}

const NEVER = new AbortController().signal;

const options = (extra: Partial<ResponseCheckOptions> = {}): ResponseCheckOptions => ({ issuerOf: () => caDer, now: Date.now(), ...extra });

describe("checkResponse", () => {
  test("a response signed by the CA's delegated responder, or by the CA itself, is believed", async () => {
    const delegated = await made([pki.good, pki.revoked]);
    const result = await checkResponse(delegated.basic, options({ expectedCertIds: delegated.requestCertIds }));
    assert.deepEqual(result, { ok: true, signerCertificate: await readPemDer(pki.signer) });
    const byCa = await made([pki.good], pki.ca, pki.caKey);
    assert.deepEqual(await checkResponse(byCa.basic, options()), { ok: true, signerCertificate: caDer });
  });

  test("another CA's responder is not authorized, unless configured as a trusted responder", async () => {
    const foreign = await made([pki.good], other.signer, other.signerKey);
    const refused = await checkResponse(foreign.basic, options());
    assert.equal(refused.ok || refused.failed, "unauthorized-signer");
    const trusted = await checkResponse(foreign.basic, options({ trustedResponders: [await readPemDer(other.signer)] }));
    assert.equal(trusted.ok, true);
  });

  test("a changed signature or changed data is a bad signature", async () => {
    const { basic } = await made([pki.good]);
    const signature = Buffer.from(basic.signature);
    signature[signature.length - 3]! ^= 0x01;
    const tampered = await checkResponse({ ...basic, signature }, options());
    assert.equal(tampered.ok || tampered.failed, "bad-signature");
  });

  test("CertIDs, nonce and time window are checked", async () => {
    const withNonce = await made([pki.good], pki.signer, pki.signerKey, ["-nonce"]);
    const { basic } = withNonce;
    assert.equal((await checkResponse(basic, options({ expectedNonce: basic.nonce! }))).ok, true);
    const wrongNonce = await checkResponse(basic, options({ expectedNonce: Buffer.from("0410" + "ab".repeat(16), "hex") }));
    assert.equal(wrongNonce.ok || wrongNonce.failed, "nonce-mismatch");
    const revokedOnly = await made([pki.revoked]);
    const mismatch = await checkResponse(basic, options({ expectedCertIds: revokedOnly.requestCertIds }));
    assert.equal(mismatch.ok || mismatch.failed, "certid-mismatch");

    const day = 86_400_000;
    const expired = await checkResponse(basic, options({ now: Date.now() + 2 * day }));
    assert.equal(expired.ok || expired.failed, "expired");
    const early = await checkResponse(basic, options({ now: Date.now() - day }));
    assert.equal(early.ok || early.failed, "not-yet-valid");
    const old = await checkResponse(basic, options({ now: Date.now() + 3_600_000, maxAgeMs: 60_000 }));
    assert.equal(old.ok || old.failed, "too-old");
  });

  test("a response about an issuer nobody knows is not believed", async () => {
    const { basic } = await made([pki.good]);
    const result = await checkResponse(basic, options({ issuerOf: () => undefined }));
    assert.equal(result.ok || result.failed, "unknown-issuer");
  });

  test("a delegated signer that Vouch's own sources know to be revoked is refused, id-pkix-ocsp-nocheck or not", async () => {
    const plainSigner = await issueCertificate(pki, "plain-signer", { commonName: "Signer Without nocheck", extensions: "signer_no_nocheck_ext" });
    const bySigner = await made([pki.good]);
    const byPlainSigner = await made([pki.good], plainSigner, join(pki.dir, "plain-signer.key"));
    const byCa = await made([pki.good], pki.ca, pki.caKey);
    const revokedAt = new Date("2025-01-01T00:00:00Z");
    const sourceSaying = async (entries: [string, MemoryEntry][]) =>
      revocationLookup([{ certificate: caDer, source: memorySource({ issuer: caDer, entries: new Map(entries), listsIssued: false, clock: fixedClock(Date.now()) }) }]);
    const revoked = await sourceSaying([
      [await certificateSerial(pki.signer), { kind: "revoked", revokedAt, reason: "keyCompromise" }],
      [await certificateSerial(plainSigner), { kind: "revoked", revokedAt, reason: "keyCompromise" }],
    ]);
    const asked: string[] = [];
    const signerStatus = (signer: Buffer, issuer: Buffer) => {
      asked.push(certificateFields(signer).serialNumber.toString("hex"));
      return revoked.status(signer, issuer, NEVER);
    };
    const withNocheck = await checkResponse(bySigner.basic, options({ signerStatus }));
    assert.equal(withNocheck.ok || withNocheck.failed, "signer-revoked");
    assert.match(withNocheck.ok ? "" : withNocheck.detail, /revoked at 2025-01-01T00:00:00\.000Z/);
    const withoutNocheck = await checkResponse(byPlainSigner.basic, options({ signerStatus }));
    assert.equal(withoutNocheck.ok || withoutNocheck.failed, "signer-revoked");
    // The CA signing for itself is no delegated signer: nothing to ask.
    asked.length = 0;
    assert.equal((await checkResponse(byCa.basic, options({ signerStatus }))).ok, true);
    assert.deepEqual(asked, []);

    // Nothing known (a source that says good, or none serving the CA): nocheck or not, the signer is trusted as before.
    const good = await sourceSaying([]);
    assert.equal((await checkResponse(bySigner.basic, options({ signerStatus: (signer, issuer) => good.status(signer, issuer, NEVER) }))).ok, true);
    const none = revocationLookup([]);
    assert.equal((await checkResponse(byPlainSigner.basic, options({ signerStatus: (signer, issuer) => none.status(signer, issuer, NEVER) }))).ok, true);
    // A source that knows but cannot answer now: refused, never assumed good.
    const stale = await checkResponse(bySigner.basic, options({ signerStatus: () => Promise.reject(new TryLaterError("status data is stale")) }));
    assert.equal(stale.ok || stale.failed, "signer-status-unavailable");
  });
});
