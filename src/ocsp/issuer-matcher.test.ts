import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { after, test } from "node:test";
import { decodeOcspRequest } from "./decode-request.ts";
import { issuerMatcher } from "./issuer-matcher.ts";
import { makeTestPki, openssl } from "./test-support/test-pki.ts";
import type { CertId } from "./types.ts";

const pki = makeTestPki();
after(() => pki.cleanup());

/** The CertID `openssl ocsp` writes for serial 0x01 of `issuer` (-serial: the name hash is of the issuer's subject), with `digest`. */
function opensslCertId(issuer: string, digest: string): CertId {
  const out = join(pki.dir, `request-${digest}.der`);
  openssl(pki.dir, ["ocsp", "-issuer", issuer, `-${digest}`, "-serial", "0x01", "-no_nonce", "-reqout", out]);
  return decodeOcspRequest(readFileSync(out)).requests[0]!.certId;
}

test("finds the certificate whose name and key openssl's CertID hashes, for each digest; a CertID of another issuer, or with one hash of another certificate, finds nothing", () => {
  // The requestor certificate stands in for a second issuer: another name and another key.
  const matcher = issuerMatcher([[pki.caDer, "ca"], [pki.requestorDer, "requestor"]] as const);
  for (const digest of ["sha1", "sha256", "sha384", "sha512"]) {
    const byCa = opensslCertId(pki.caPem, digest);
    assert.equal(matcher.find(byCa), "ca", digest);
    const byRequestor = opensslCertId(pki.requestorPem, digest);
    assert.equal(matcher.find(byRequestor), "requestor", digest);
    assert.equal(matcher.find({ ...byCa, issuerNameHash: byRequestor.issuerNameHash }), undefined, `${digest}: the CA's key with another name`);
    assert.equal(issuerMatcher([[pki.requestorDer, "requestor"]] as const).find(byCa), undefined, `${digest}: not an issuer of the matcher`);
  }
});
